namespace Conec.Typed.Internal;

/// <summary>
/// A call waiting for its end on the calling side: its result, its streamed result's items, and, when it streams an
/// argument, the credit the server granted for it and the signal that stops sending it.
/// </summary>
internal sealed class RpcPendingCall
{
    private readonly TaskCompletionSource<ReadOnlyMemory<byte>> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _uncredited;

    public RpcPendingCall(bool streamsResult, long argumentWindow)
    {
        if (streamsResult)
        {
            Items = System.Threading.Channels.Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new() { SingleReader = true, SingleWriter = true });
        }

        if (argumentWindow > 0)
        {
            ArgumentCredit = new StreamedResultCredit(argumentWindow);
            StopArgument = new CancellationTokenSource();
        }
    }

    /// <summary>
    /// A streamed result's items, in order. The channel never blocks the response reader, which serves every call on
    /// the stream; what it holds is bounded by the credit this call grants the server (its window).
    /// </summary>
    public System.Threading.Channels.Channel<ReadOnlyMemory<byte>>? Items { get; }

    /// <summary>What the server lets this call send of its streamed argument before it reads.</summary>
    public StreamedResultCredit? ArgumentCredit { get; }

    /// <summary>Cancelled when the streamed argument must stop: the call ended, or the server stopped reading it.</summary>
    public CancellationTokenSource? StopArgument { get; }

    public Task<ReadOnlyMemory<byte>> Task => _result.Task;

    /// <summary>
    /// Queues a streamed item; false when the server sent it although the bytes this caller has not yet credited
    /// back already fill the window (a server that honours credit never does).
    /// </summary>
    public bool Push(ReadOnlyMemory<byte> item, long window)
    {
        if (Interlocked.Read(ref _uncredited) >= window)
        {
            return false;
        }

        Interlocked.Add(ref _uncredited, item.Length);
        Items?.Writer.TryWrite(item);
        return true;
    }

    /// <summary>The caller consumed <paramref name="bytes"/> and grants them back to the server.</summary>
    public void Credit(long bytes) => Interlocked.Add(ref _uncredited, -bytes);

    public void Complete(ReadOnlyMemory<byte> value)
    {
        Items?.Writer.TryComplete();
        _result.TrySetResult(value);
        StopSendingArgument();
    }

    public void Fail(Exception failure)
    {
        Items?.Writer.TryComplete(failure);
        _result.TrySetException(failure);
        StopSendingArgument();
    }

    public void Cancel(CancellationToken token)
    {
        Items?.Writer.TryComplete(new OperationCanceledException(token));
        _result.TrySetCanceled(token);
        StopSendingArgument();
    }

    /// <summary>Stops the argument's pump; on the thread pool, since the response reader must not run its continuations.</summary>
    public void StopSendingArgument()
    {
        if (StopArgument is { IsCancellationRequested: false } stop)
        {
            _ = stop.CancelAsync();
        }
    }
}
