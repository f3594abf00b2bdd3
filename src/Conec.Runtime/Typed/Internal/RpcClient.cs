using System.Buffers;
using System.Collections.Concurrent;
using System.ComponentModel;
using MessagePack;

namespace Conec.Typed.Internal;

/// <summary>
/// The calling end of an RPC stream, used by generated clients: many calls in flight on one stream, each matched to
/// its result by a call id; cancelling a call's token cancels the remote handler; a lost stream fails every call.
/// </summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcClient : IAsyncDisposable
{
    private readonly OutStream _send;
    private readonly InStream _receive;
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
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

    /// <summary>Starts reading results from <paramref name="receive"/>; calls are sent on <paramref name="send"/>.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/> when <paramref name="options"/> is invalid.</exception>
    public RpcClient(OutStream send, InStream receive, RpcClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        options ??= new RpcClientOptions();
        options.Validate();
        _queuedCalls = new SemaphoreSlim(options.MaxQueuedCalls, options.MaxQueuedCalls);
        _window = options.StreamedResultWindow;
        _send = send;
        _receive = receive;
        _responses = Task.Run(ReadResponsesAsync);
        _writer = Task.Run(WriteRequestsAsync);
    }

    /// <summary>
    /// Calls method <paramref name="methodId"/> with serialized <paramref name="arguments"/> and returns its result,
    /// read by <paramref name="decode"/> (generated code passes the contract's own reader for the result type).
    /// </summary>
    /// <exception cref="ConecRemoteException">The remote handler threw.</exception>
    /// <exception cref="ConecException">The stream failed before the result arrived, or the result does not decode.</exception>
    public async ValueTask<T> CallAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, Func<ReadOnlyMemory<byte>, T> decode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decode);
        var value = await CallCoreAsync(methodId, arguments, cancellationToken);
        return Decode(value, decode);
    }

    private static T Decode<T>(ReadOnlyMemory<byte> value, Func<ReadOnlyMemory<byte>, T> decode)
    {
        try
        {
            return decode(value);
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw TypedMessages.Malformed(e);
        }
    }

    /// <summary>Calls a method that returns no value; completes when the remote handler has finished.</summary>
    public async ValueTask CallAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default) =>
        await CallCoreAsync(methodId, arguments, cancellationToken);

    /// <summary>
    /// Calls a method whose result is streamed: yields each item as it arrives, read by <paramref name="decode"/>.
    /// Stopping early, or cancelling <paramref name="cancellationToken"/>, cancels the remote handler.
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, Func<ReadOnlyMemory<byte>, T> decode, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decode);
        ThrowIfFailed();
        var callId = Interlocked.Increment(ref _nextCallId);
        var call = new PendingCall { Items = System.Threading.Channels.Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new() { SingleReader = true, SingleWriter = true }) };
        _pending[callId] = call;
        using var activity = Diagnostics.ConecTelemetry.Source.StartActivity("conec.rpc.call", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("rpc.method_id", methodId);
        try
        {
            await EnqueueCallAsync(new Outgoing(RpcFrame.Request, callId, methodId, arguments, null, activity?.Id, _window), cancellationToken);
            long consumed = 0;
            await foreach (var item in call.Items.Reader.ReadAllAsync(cancellationToken))
            {
                yield return Decode(item, decode);

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
        finally
        {
            _pending.TryRemove(callId, out _);
            if (!call.Task.IsCompleted)
            {
                // The consumer stopped early or was cancelled: the handler need not go on producing.
                await CancelRemoteAsync(callId, call, cancellationToken);
            }
        }
    }

    /// <summary>Sends a one-way message: the remote handler runs, nothing comes back.</summary>
    public async ValueTask NotifyAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await EnqueueCallAsync(new Outgoing(RpcFrame.Notify, 0, methodId, arguments, sent), cancellationToken);
        await sent.Task.WaitAsync(cancellationToken);
    }

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

    private async ValueTask<ReadOnlyMemory<byte>> CallCoreAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        cancellationToken.ThrowIfCancellationRequested();
        var callId = Interlocked.Increment(ref _nextCallId);
        var call = new PendingCall();
        _pending[callId] = call;
        using var activity = Diagnostics.ConecTelemetry.Source.StartActivity("conec.rpc.call", System.Diagnostics.ActivityKind.Client);
        activity?.SetTag("rpc.system", "conec");
        activity?.SetTag("rpc.method_id", methodId);
        try
        {
            await EnqueueCallAsync(new Outgoing(RpcFrame.Request, callId, methodId, arguments, null, activity?.Id), cancellationToken);
            if (_failure is { } failure)
            {
                call.Fail(failure);
            }

            await using (cancellationToken.Register(() => _ = CancelRemoteAsync(callId, call, cancellationToken)))
            {
                return await call.Task;
            }
        }
        finally
        {
            _pending.TryRemove(callId, out _);
        }
    }

    /// <summary>Fails the local call at once and tells the server to cancel the handler.</summary>
    private Task CancelRemoteAsync(long callId, PendingCall call, CancellationToken cancellationToken)
    {
        call.Cancel(cancellationToken);

        // After disposal the writer is gone, and the server learns from the stream's end instead.
        _outgoing.Writer.TryWrite(new Outgoing(RpcFrame.Cancel, callId, 0, default, null));
        return Task.CompletedTask;
    }

    /// <summary>Queues a call or notification once the queue has room; cancellations and credit bypass the bound.</summary>
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

    /// <summary>The one writer: encodes each queued request into one buffer and sends it; a failure fails every call.</summary>
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
                    default:
                        RpcFrame.WriteCall(_buffer, item.CallId, item.MethodId, item.Arguments, notify: item.Kind == RpcFrame.Notify, item.TraceParent, item.Window);
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

    /// <summary>A request, cancellation or notification waiting for the writer; <see cref="Sent"/> completes once it is sent.</summary>
    private readonly record struct Outgoing(int Kind, long CallId, int MethodId, ReadOnlyMemory<byte> Arguments, TaskCompletionSource? Sent, string? TraceParent = null, long Window = 0);

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

    private sealed class PendingCall
    {
        private readonly TaskCompletionSource<ReadOnlyMemory<byte>> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// A streamed result's items, in order. The channel never blocks the response reader, which serves every
        /// call on the stream; what it holds is bounded by the credit this call grants the server (its window).
        /// </summary>
        public System.Threading.Channels.Channel<ReadOnlyMemory<byte>>? Items { get; init; }

        public Task<ReadOnlyMemory<byte>> Task => _result.Task;

        private long _uncredited;

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
        }

        public void Fail(Exception failure)
        {
            Items?.Writer.TryComplete(failure);
            _result.TrySetException(failure);
        }

        public void Cancel(CancellationToken token)
        {
            Items?.Writer.TryComplete(new OperationCanceledException(token));
            _result.TrySetCanceled(token);
        }
    }
}
