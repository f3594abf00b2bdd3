using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Conec.Typed.Internal;

/// <summary>
/// The calling end of one RPC stream, shared by an <see cref="RpcClient"/> and the views made from it: one writer
/// loop sends what callers queue, one reader loop matches what comes back to calls by their ids, and a lost stream
/// fails every call.
/// </summary>
internal sealed class RpcConnection : IAsyncDisposable
{
    private readonly OutStream _send;
    private readonly InStream _receive;
    private readonly ConcurrentDictionary<long, RpcPendingCall> _pending = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    // Callers queue what to send and one writer sends it: concurrent calls never contend for the stream.
    private readonly System.Threading.Channels.Channel<Outgoing> _outgoing =
        System.Threading.Channels.Channel.CreateUnbounded<Outgoing>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _queuedCalls;
    private readonly long _window;
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private readonly Task _responses;
    private readonly Task _writer;
    private long _nextCallId;
    private ConecException? _failure;

    public RpcConnection(OutStream send, InStream receive, RpcClientOptions options)
    {
        _queuedCalls = new SemaphoreSlim(options.MaxQueuedCalls, options.MaxQueuedCalls);
        _window = options.StreamedResultWindow;
        DefaultDeadline = options.DefaultDeadline;
        Filters = [.. options.Filters];
        _send = send;
        _receive = receive;
        _responses = Task.Run(ReadResponsesAsync);
        _writer = Task.Run(WriteRequestsAsync);
    }

    public TimeSpan? DefaultDeadline { get; }

    public IRpcClientFilter[] Filters { get; }

    /// <summary>What a streamed argument may send ahead of the server's reading: the caller's window, up to the transport's.</summary>
    private long ArgumentWindow => Math.Min(_window, RpcClient.MaxArgumentWindow);

    /// <summary>Calls a method and returns its serialized result once the handler has finished.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> CallAsync(RpcContract contract, int methodId, ReadOnlyMemory<byte> arguments, RpcArgumentPump? argument,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        cancellationToken.ThrowIfCancellationRequested();
        using var limit = Limit(contract, methodId, timeout, cancellationToken, out var deadlineTick);
        var token = limit?.Token ?? cancellationToken;
        var callId = Interlocked.Increment(ref _nextCallId);
        var call = new RpcPendingCall(streamsResult: false, argument is null ? 0 : ArgumentWindow);
        _pending[callId] = call;
        using var activity = StartActivity(methodId);
        try
        {
            await EnqueueCallAsync(new Outgoing(RpcFrame.Request, callId, methodId, arguments, null, activity?.Id, argument is null ? 0 : _window, deadlineTick), token);
            if (_failure is { } failure)
            {
                call.Fail(failure);
            }

            _ = argument?.RunAsync(this, callId, call);
            await using (token.Register(() => CancelRemote(callId, call, token)))
            {
                return await call.Task;
            }
        }
        catch (OperationCanceledException) when (limit is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            throw DeadlineExceeded(contract, methodId, timeout);
        }
        finally
        {
            _pending.TryRemove(callId, out _);
            call.StopSendingArgument(); // its pump catches every failure itself and reports it into the call
        }
    }

    /// <summary>
    /// Calls a method whose result is streamed: yields each item as it arrives, read by <paramref name="decode"/>.
    /// Stopping early, or cancelling <paramref name="cancellationToken"/>, cancels the remote handler.
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(RpcContract contract, int methodId, ReadOnlyMemory<byte> arguments, RpcArgumentPump? argument,
        TimeSpan? timeout, Func<ReadOnlyMemory<byte>, T> decode, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        using var limit = Limit(contract, methodId, timeout, cancellationToken, out var deadlineTick);
        var token = limit?.Token ?? cancellationToken;
        var callId = Interlocked.Increment(ref _nextCallId);
        var call = new RpcPendingCall(streamsResult: true, argument is null ? 0 : ArgumentWindow);
        _pending[callId] = call;
        using var activity = StartActivity(methodId);
        try
        {
            await Guard(AsBool(EnqueueCallAsync(new Outgoing(RpcFrame.Request, callId, methodId, arguments, null, activity?.Id, _window, deadlineTick), token)));
            _ = argument?.RunAsync(this, callId, call);
            var items = call.Items!.Reader;
            long consumed = 0;
            while (await Guard(items.WaitToReadAsync(token)))
            {
                while (items.TryRead(out var item))
                {
                    yield return RpcClient.Decode(item, decode);

                    // Grant credit back in halves of the window, so the server refills while the caller reads the rest.
                    consumed += item.Length;
                    if (consumed >= _window / 2)
                    {
                        call.Credit(consumed);
                        _outgoing.Writer.TryWrite(new Outgoing(RpcFrame.Credit, callId, 0, default, null, Window: consumed));
                        consumed = 0;
                    }
                }
            }
        }
        finally
        {
            _pending.TryRemove(callId, out _);
            if (!call.Task.IsCompleted)
            {
                // The consumer stopped early, was cancelled, or ran out of time: the handler need not go on producing.
                CancelRemote(callId, call, token);
            }

            call.StopSendingArgument(); // its pump catches every failure itself and reports it into the call
        }

        // The deadline cancels the same token the caller's cancellation does; the caller's own token tells them apart.
        async ValueTask<TResult> Guard<TResult>(ValueTask<TResult> wait)
        {
            try
            {
                return await wait;
            }
            catch (OperationCanceledException) when (limit is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
            {
                throw DeadlineExceeded(contract, methodId, timeout);
            }
        }

        static async ValueTask<bool> AsBool(ValueTask wait)
        {
            await wait;
            return true;
        }
    }

    /// <summary>Sends a one-way message: the remote handler runs, nothing comes back.</summary>
    public async ValueTask NotifyAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await EnqueueCallAsync(new Outgoing(RpcFrame.Notify, 0, methodId, arguments, sent), cancellationToken);
        await sent.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Queues an item or the end of a streamed argument, or a cancellation: these bypass the queue's bound.</summary>
    /// <returns>False once the writer is gone (disposed, or its stream failed); the stream's end then says the rest.</returns>
    public bool SendControl(int kind, long callId, ReadOnlyMemory<byte> payload) =>
        _outgoing.Writer.TryWrite(new Outgoing(kind, callId, 0, payload, null));

    /// <summary>Finishes the calling direction (the server then ends) and fails calls still waiting.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        await _writer;
        await _send.FinishAsync();

        // Stop the response reader before releasing the stream it reads: one reader at a time on an InStream.
        await _stopping.CancelAsync();
        await _responses;
        await _receive.DisposeAsync();
        _stopping.Dispose();
        _queuedCalls.Dispose();
    }

    /// <summary>
    /// A source cancelled at the call's deadline (and with the caller's token), or null without a deadline; the
    /// deadline as a tick count, from which the writer computes the time left when it sends the call.
    /// </summary>
    private static CancellationTokenSource? Limit(RpcContract contract, int methodId, TimeSpan? timeout, CancellationToken cancellationToken, out long deadlineTick)
    {
        deadlineTick = 0;
        if (timeout is not { } left)
        {
            return null;
        }

        if (left <= TimeSpan.Zero)
        {
            throw DeadlineExceeded(contract, methodId, timeout);
        }

        deadlineTick = Environment.TickCount64 + (long)Math.Ceiling(left.TotalMilliseconds);
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(left);
        return limit;
    }

    private static ConecException DeadlineExceeded(RpcContract contract, int methodId, TimeSpan? timeout) =>
        new(ConecError.DeadlineExceeded, $"The call to {contract.Name}.{contract.NameOf(methodId) ?? methodId.ToString(System.Globalization.CultureInfo.InvariantCulture)} " +
            $"did not finish within its deadline ({timeout?.TotalMilliseconds:0.#} ms left when it was made).");

    private static System.Diagnostics.Activity? StartActivity(int methodId)
    {
        var activity = Diagnostics.ConecTelemetry.Source.StartActivity("conec.rpc.call", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("rpc.system", "conec");
        activity?.SetTag("rpc.method_id", methodId);
        return activity;
    }

    /// <summary>Fails the local call at once and tells the server to cancel the handler.</summary>
    private void CancelRemote(long callId, RpcPendingCall call, CancellationToken cancellationToken)
    {
        call.Cancel(cancellationToken);

        // After disposal the writer is gone, and the server learns from the stream's end instead.
        _outgoing.Writer.TryWrite(new Outgoing(RpcFrame.Cancel, callId, 0, default, null));
    }

    /// <summary>Queues a call or notification once the queue has room.</summary>
    private async ValueTask EnqueueCallAsync(Outgoing item, CancellationToken cancellationToken)
    {
        await _queuedCalls.WaitAsync(cancellationToken);
        if (!_outgoing.Writer.TryWrite(item))
        {
            _queuedCalls.Release();
            ThrowIfFailed();
            throw new ObjectDisposedException(nameof(RpcClient));
        }
    }

    /// <summary>The one writer: encodes each queued message into one buffer and sends it; a failure fails every call.</summary>
    private async Task WriteRequestsAsync()
    {
        try
        {
            await foreach (var item in _outgoing.Reader.ReadAllAsync())
            {
                _buffer.ResetWrittenCount();
                switch (item.Kind)
                {
                    case RpcFrame.Cancel:
                        RpcFrame.WriteCancel(_buffer, item.CallId);
                        break;
                    case RpcFrame.Credit:
                        RpcFrame.WriteCredit(_buffer, item.CallId, item.Window);
                        break;
                    case RpcFrame.Item:
                        RpcFrame.WriteItem(_buffer, item.CallId, item.Arguments);
                        break;
                    case RpcFrame.End:
                        RpcFrame.WriteEnd(_buffer, item.CallId);
                        break;
                    default:
                        // The time left is measured as the call leaves, as gRPC does, so time spent queued counts against it.
                        var timeout = item.DeadlineTick > 0 ? Math.Max(1, item.DeadlineTick - Environment.TickCount64) : 0;
                        RpcFrame.WriteCall(_buffer, item.CallId, item.MethodId, item.Arguments, notify: item.Kind == RpcFrame.Notify, item.TraceParent, item.Window, timeout);
                        _queuedCalls.Release();
                        break;
                }

                await _send.SendAsync(_buffer.WrittenMemory);
                item.Sent?.TrySetResult();
            }
        }
        catch (ConecException e)
        {
            _failure ??= e;
            _outgoing.Writer.TryComplete();
            foreach (var call in _pending.Values)
            {
                call.Fail(e);
            }

            while (_outgoing.Reader.TryRead(out var unsent))
            {
                unsent.Sent?.TrySetException(e);
                if (unsent.Kind is RpcFrame.Request or RpcFrame.Notify)
                {
                    _queuedCalls.Release(); // a caller waiting for room then finds the writer gone and fails
                }
            }
        }
    }

    /// <summary>A message waiting for the writer; <see cref="Sent"/> completes once it is sent.</summary>
    private readonly record struct Outgoing(int Kind, long CallId, int MethodId, ReadOnlyMemory<byte> Arguments, TaskCompletionSource? Sent,
        string? TraceParent = null, long Window = 0, long DeadlineTick = 0);

    private async Task ReadResponsesAsync()
    {
        ConecException failure;
        try
        {
            while (await _receive.ReadAsync(_stopping.Token) is { } message)
            {
                var frame = RpcFrame.Parse(message);
                if (!_pending.TryGetValue(frame.CallId, out var call))
                {
                    continue; // A result for a call that was cancelled or timed out locally: nobody waits for it.
                }

                switch (frame.Kind)
                {
                    case RpcFrame.Item when !call.Push(frame.Rest, _window):
                        // A server that ignores the call's credit would grow this caller's memory without bound.
                        call.Fail(new ConecException(ConecError.ProtocolViolation,
                            $"The RPC server sent more than the call's window of {_window} bytes of streamed items without credit."));
                        _outgoing.Writer.TryWrite(new Outgoing(RpcFrame.Cancel, frame.CallId, 0, default, null));
                        break;
                    case RpcFrame.Item:
                        break;
                    case RpcFrame.Result:
                        call.Complete(frame.Rest);
                        break;
                    case RpcFrame.Error:
                        call.Fail(RpcFrame.ReadError(frame.Rest));
                        break;
                    case RpcFrame.Credit:
                        call.ArgumentCredit?.Grant(frame.Window);
                        break;
                    case RpcFrame.Cancel:
                        call.StopSendingArgument(); // the handler read what it needed of the streamed argument
                        break;
                    default:
                        throw new ConecException(ConecError.MalformedMessage, $"The server sent RPC message kind {frame.Kind}.");
                }
            }

            failure = new ConecException(ConecError.StreamClosed, "The RPC server ended the stream; no result will arrive.");
        }
        catch (ConecException e)
        {
            failure = e;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            failure = new ConecException(ConecError.StreamClosed, "The RPC client was disposed; no result will arrive.");
        }

        _failure = failure;
        foreach (var call in _pending.Values)
        {
            call.Fail(failure);
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw failure;
        }
    }
}
