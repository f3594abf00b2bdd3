using System.Buffers;
using System.Collections.Concurrent;
using MessagePack;

namespace Conec;

/// <summary>
/// The calling end of an RPC stream, used by generated clients: many calls in flight on one stream, each matched to
/// its result by a call id; cancelling a call's token cancels the remote handler; a lost stream fails every call.
/// </summary>
public sealed class RpcClient : IAsyncDisposable
{
    private readonly OutStream _send;
    private readonly InStream _receive;
    private readonly MessagePackSerializerOptions _options;
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Task _responses;
    private long _nextCallId;
    private ConecException? _failure;

    /// <summary>Starts reading results from <paramref name="receive"/>; calls are sent on <paramref name="send"/>.</summary>
    public RpcClient(OutStream send, InStream receive, MessagePackSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        _send = send;
        _receive = receive;
        _options = options;
        _responses = Task.Run(ReadResponsesAsync);
    }

    /// <summary>Calls method <paramref name="methodId"/> with serialized <paramref name="arguments"/> and returns its result.</summary>
    /// <exception cref="ConecRemoteException">The remote handler threw.</exception>
    /// <exception cref="ConecException">The stream failed before the result arrived.</exception>
    public async ValueTask<T> CallAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default)
    {
        var value = await CallCoreAsync(methodId, arguments, cancellationToken);
        try
        {
            return MessagePackSerializer.Deserialize<T>(value, _options, CancellationToken.None);
        }
        catch (MessagePackSerializationException e)
        {
            throw TypedMessages.Malformed(e);
        }
    }

    /// <summary>Calls a method that returns no value; completes when the remote handler has finished.</summary>
    public async ValueTask CallAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default) =>
        await CallCoreAsync(methodId, arguments, cancellationToken);

    /// <summary>Sends a one-way message: the remote handler runs, nothing comes back.</summary>
    public async ValueTask NotifyAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default)
    {
        ThrowIfFailed();
        await SendAsync(buffer => RpcFrame.WriteCall(buffer, 0, methodId, arguments, notify: true), cancellationToken);
    }

    /// <summary>Finishes the calling direction (the server then ends) and fails calls still waiting.</summary>
    public async ValueTask DisposeAsync()
    {
        await _send.FinishAsync();
        await _receive.DisposeAsync();
        await _responses;
        _sendLock.Dispose();
    }

    private async ValueTask<ReadOnlyMemory<byte>> CallCoreAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        cancellationToken.ThrowIfCancellationRequested();
        var callId = Interlocked.Increment(ref _nextCallId);
        var call = new PendingCall();
        _pending[callId] = call;
        try
        {
            await SendAsync(buffer => RpcFrame.WriteCall(buffer, callId, methodId, arguments, notify: false), cancellationToken);
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
    private async Task CancelRemoteAsync(long callId, PendingCall call, CancellationToken cancellationToken)
    {
        call.Cancel(cancellationToken);
        try
        {
            await SendAsync(buffer => RpcFrame.WriteCancel(buffer, callId), CancellationToken.None);
        }
        catch (ConecException)
        {
            // The stream is gone: the server's handlers are cancelled with it.
        }
        catch (ObjectDisposedException)
        {
            // The client was disposed meanwhile; the server sees the stream end.
        }
    }

    private async ValueTask SendAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            _buffer.ResetWrittenCount();
            write(_buffer);
            await _send.SendAsync(_buffer.WrittenMemory, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadResponsesAsync()
    {
        ConecException failure;
        try
        {
            while (await _receive.ReadAsync() is { } message)
            {
                var frame = RpcFrame.Parse(message);
                if (!_pending.TryGetValue(frame.CallId, out var call))
                {
                    continue; // A result for a call that was cancelled or timed out locally: nobody waits for it.
                }

                switch (frame.Kind)
                {
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

        public Task<ReadOnlyMemory<byte>> Task => _result.Task;

        public void Complete(ReadOnlyMemory<byte> value) => _result.TrySetResult(value);

        public void Fail(Exception failure) => _result.TrySetException(failure);

        public void Cancel(CancellationToken token) => _result.TrySetCanceled(token);
    }
}
