using System.ComponentModel;
using System.Threading.Channels;

namespace Conec.Typed.Internal;

/// <summary>
/// One call being served: its context, its cancellation (the caller's cancel, its deadline, the stream's end), the
/// credit the caller granted for its streamed result, and the items of its streamed argument as they arrive.
/// </summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcServerCall : RpcCallContext
{
    private readonly RpcServerSession _session;
    private readonly CancellationTokenSource _cancel;
    private readonly CancellationToken _token; // kept, so the context still answers after the source is disposed
    private readonly long _window;
    private Channel<ReadOnlyMemory<byte>>? _input;
    private long _uncreditedInput;
    private volatile bool _cancelledByCaller;
    private volatile bool _finished;

    internal RpcServerCall(RpcServerSession session, in RpcFrame.Parsed frame, DateTimeOffset? deadline)
        : base(session.Contract, frame.MethodId, session.Peer, deadline)
    {
        _session = session;
        CallId = frame.CallId;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(session.Stopping);
        _token = _cancel.Token;
        if (frame.TimeoutMilliseconds > 0)
        {
            _cancel.CancelAfter(TimeSpan.FromMilliseconds(frame.TimeoutMilliseconds));
        }

        // A caller that grants no window (one that predates credit) takes every item unthrottled; a streamed argument
        // is bounded either way, by the caller's window up to the transport's own per-stream window.
        Credit = frame.Window > 0 ? new StreamedResultCredit(frame.Window) : null;
        _window = frame.Window > 0 ? Math.Min(frame.Window, RpcClient.MaxArgumentWindow) : RpcClient.MaxArgumentWindow;
    }

    /// <inheritdoc/>
    public override bool IsServer => true;

    /// <inheritdoc/>
    public override CancellationToken CancellationToken => _token;

    internal long CallId { get; }

    internal StreamedResultCredit? Credit { get; }

    /// <summary>The call's frame buffer, from the session's pool; null for a one-way message, which sends nothing back.</summary>
    internal System.Buffers.ArrayBufferWriter<byte>? Buffer { get; set; }

    /// <summary>Whether the call ended because its deadline passed, rather than by the caller or the stream.</summary>
    internal bool DeadlinePassed => Deadline is not null && _cancel.IsCancellationRequested && !_cancelledByCaller && !_session.Stopping.IsCancellationRequested;

    private Channel<ReadOnlyMemory<byte>> Input
    {
        get
        {
            // Created by whichever comes first, the first item or the handler's read, and only for calls that stream.
            if (_input is { } input)
            {
                return input;
            }

            Interlocked.CompareExchange(ref _input, Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new() { SingleReader = true, SingleWriter = true }), null);
            return _input;
        }
    }

    /// <summary>Sends one item of the call's streamed result, already serialized; waits for the caller's credit.</summary>
    public async ValueTask SendItemAsync(ReadOnlyMemory<byte> serialized)
    {
        if (Credit is { } credit)
        {
            await credit.TakeAsync(serialized.Length, CancellationToken);
        }

        await _session.SendItemAsync(this, serialized, CancellationToken);
    }

    /// <summary>
    /// The items of the call's streamed argument, read by <paramref name="decode"/>, as the caller sends them. Reading
    /// grants the caller credit; stopping before the end tells the caller to stop sending.
    /// </summary>
    public async IAsyncEnumerable<T> ReadArgumentAsync<T>(Func<ReadOnlyMemory<byte>, T> decode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        var reader = Input.Reader;
        long consumed = 0;
        var complete = false;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken))
            {
                while (reader.TryRead(out var item))
                {
                    yield return decode(item);
                    consumed += item.Length;
                    if (consumed >= _window / 2)
                    {
                        // Granted in halves of the window, as the caller does for results, so the caller refills while this reads on.
                        Interlocked.Add(ref _uncreditedInput, -consumed);
                        await _session.SendControlAsync(RpcFrame.Credit, CallId, consumed, CancellationToken);
                        consumed = 0;
                    }
                }
            }

            complete = true;
        }
        finally
        {
            if (!complete && !_finished && !CancellationToken.IsCancellationRequested)
            {
                // The handler stopped reading early: the caller need not send the rest.
                await _session.SendControlAsync(RpcFrame.Cancel, CallId, 0, CancellationToken.None);
            }
        }
    }

    /// <summary>Queues an item of the streamed argument; false when the caller sent it without credit for it.</summary>
    internal bool PushArgument(ReadOnlyMemory<byte> item)
    {
        if (Interlocked.Read(ref _uncreditedInput) >= _window)
        {
            return false;
        }

        Interlocked.Add(ref _uncreditedInput, item.Length);
        Input.Writer.TryWrite(item);
        return true;
    }

    internal void EndArgument() => Input.Writer.TryComplete();

    internal Task CancelByCallerAsync()
    {
        // The caller's cancel can cross the call's end; the source is private, so it is its own lock.
        lock (_cancel)
        {
            if (_finished)
            {
                return Task.CompletedTask;
            }

            _cancelledByCaller = true;
            return _cancel.CancelAsync();
        }
    }

    /// <summary>The call's handler has returned: nothing more reaches it.</summary>
    internal void Finish()
    {
        lock (_cancel)
        {
            _finished = true;
            _input?.Writer.TryComplete();
            _cancel.Dispose();
        }
    }
}
