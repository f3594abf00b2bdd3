using System.Buffers;
using System.Collections.Concurrent;

namespace Conec.Typed.Internal;

/// <summary>
/// The state of one served RPC stream: the calls running, the one writer lock, the reused buffers and the filters.
/// The reader never waits on a call, so a paused call costs the others nothing.
/// </summary>
internal sealed class RpcServerSession : IDisposable
{
    private readonly OutStream _send;
    private readonly RpcCallHandler _handler;
    private readonly IRpcServerFilter[] _filters;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, RpcServerCall> _running = new();
    private readonly ConcurrentBag<ArrayBufferWriter<byte>> _buffers = new();
    private readonly ArrayBufferWriter<byte> _control = new(32); // credit and stop frames, written under the send lock

    internal RpcServerSession(OutStream send, RpcContract contract, RpcCallHandler handler, string? peer, IRpcServerFilter[] filters, CancellationToken stopping)
    {
        _send = send;
        Contract = contract;
        _handler = handler;
        Peer = peer;
        _filters = filters;
        Stopping = stopping;
    }

    public RpcContract Contract { get; }

    public string? Peer { get; }

    /// <summary>Cancelled when serving ends: every running handler then has nobody to answer.</summary>
    public CancellationToken Stopping { get; }

    public static async Task RunAsync(OutStream send, InStream receive, RpcContract contract, RpcCallHandler handler, string? peer,
        IRpcServerFilter[] filters, CancellationToken cancellationToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var session = new RpcServerSession(send, contract, handler, peer, filters, stopping.Token);
        var calls = new List<Task>();
        var ended = false;
        try
        {
            while (await receive.ReadAsync(stopping.Token) is { } message)
            {
                var frame = RpcFrame.Parse(message);
                if (frame.Kind == RpcFrame.Notify)
                {
                    // One-way messages run in order, one at a time, as they arrive.
                    await session.NotifyAsync(frame);
                }
                else if (session.Accept(frame) is { } call)
                {
                    calls.Add(call);
                    calls.RemoveAll(t => t.IsCompleted);
                }
            }

            ended = true;
        }
        finally
        {
            if (!ended)
            {
                // Serving stopped before the caller finished (a broken message, or this side's cancellation): stop
                // reading, so a caller still sending fails at once instead of waiting on flow control for ever.
                receive.Abort();
            }

            // The caller is gone or finished: handlers still running have nobody to answer.
            await stopping.CancelAsync();
            await Task.WhenAll(calls);
            await send.FinishAsync(CancellationToken.None);
        }
    }

    public void Dispose() => _sendLock.Dispose();

    /// <summary>Handles one message from the caller about a call; returns what it started (the call, or its cancellation).</summary>
    private Task? Accept(in RpcFrame.Parsed frame)
    {
        switch (frame.Kind)
        {
            case RpcFrame.Request:
                var deadline = frame.TimeoutMilliseconds > 0 ? DateTimeOffset.UtcNow.AddMilliseconds(frame.TimeoutMilliseconds) : (DateTimeOffset?)null;
                var call = new RpcServerCall(this, frame, deadline);
                if (!_running.TryAdd(frame.CallId, call))
                {
                    call.Finish();
                    throw new ConecException(ConecError.ProtocolViolation, $"The caller reused call id {frame.CallId} while that call was running.");
                }

                return RunCallAsync(call, frame);
            case RpcFrame.Cancel when _running.TryGetValue(frame.CallId, out var cancelled):
                return cancelled.CancelByCallerAsync();
            case RpcFrame.Credit when _running.TryGetValue(frame.CallId, out var credited):
                credited.Credit?.Grant(frame.Window);
                return null;
            case RpcFrame.Item when _running.TryGetValue(frame.CallId, out var streaming):
                if (!streaming.PushArgument(frame.Rest))
                {
                    // A caller that ignores credit would grow this server's memory without bound.
                    throw new ConecException(ConecError.ProtocolViolation,
                        $"The caller sent more than call {frame.CallId}'s window of streamed argument bytes without credit.");
                }

                return null;
            case RpcFrame.End when _running.TryGetValue(frame.CallId, out var ended):
                ended.EndArgument();
                return null;
            case RpcFrame.Cancel or RpcFrame.Credit or RpcFrame.Item or RpcFrame.End:
                return null; // The call already finished; its result is on its way.
            default:
                throw new ConecException(ConecError.MalformedMessage, $"The caller sent RPC message kind {frame.Kind}.");
        }
    }

    private async Task NotifyAsync(RpcFrame.Parsed frame)
    {
        var call = new RpcServerCall(this, frame with { CallId = 0, Window = 0, TimeoutMilliseconds = 0 }, null);
        RpcCallContext.SetCurrent(call);
        try
        {
            await InvokeAsync(call, frame);
        }
        catch (ConecException e) when (e.Error == ConecError.UnknownMethod)
        {
            // A message of a newer version of the contract: there is no one to answer, and older peers skip what they do not know.
        }
        finally
        {
            call.Finish();
        }
    }

    /// <summary>The handler, through the filters when there are any; without filters nothing is allocated for the chain.</summary>
    internal ValueTask<RpcResult> InvokeAsync(RpcServerCall call, RpcFrame.Parsed frame) =>
        _filters.Length == 0 ? _handler(frame.MethodId, frame.Rest, call) : new FilterChain(this, frame, call).RunAsync();

    private async Task RunCallAsync(RpcServerCall call, RpcFrame.Parsed frame)
    {
        // One buffer per call at a time, reused from call to call: a call's items go out one after another.
        var buffer = _buffers.TryTake(out var reused) ? reused : new ArrayBufferWriter<byte>(256);
        call.Buffer = buffer;
        using var activity = Diagnostics.ConecTelemetry.Source.StartActivity(
            "conec.rpc.serve", System.Diagnostics.ActivityKind.Server, Diagnostics.ConecTelemetry.ParseTraceParent(frame.TraceParent));
        activity?.SetTag("rpc.system", "conec");
        activity?.SetTag("rpc.method_id", frame.MethodId);
        RpcCallContext.SetCurrent(call);
        try
        {
            var result = await InvokeAsync(call, frame);
            buffer.ResetWrittenCount();
            RpcFrame.WriteResult(buffer, frame.CallId, result.Value);
        }
        catch (OperationCanceledException) when (call.DeadlinePassed)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "deadline exceeded");
            WriteError(buffer, call, "Conec.DeadlineExceeded", $"{call.Contract}.{call.Method} passed its deadline on the server.", ConecError.DeadlineExceeded);
        }
        catch (ConecException e) when (e.Error is ConecError.UnknownMethod or ConecError.MalformedMessage)
        {
            // The call does not match this side's contract: the caller learns why, and the stream serves on.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            WriteError(buffer, call, typeof(ConecException).FullName!, e.Message, e.Error);
        }
        catch (Exception e)
        {
            // Any handler failure goes back to the caller as its type and message; the server keeps serving.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            WriteError(buffer, call, e.GetType().FullName ?? e.GetType().Name, e.Message, null);
        }
        finally
        {
            _running.TryRemove(frame.CallId, out _);
            call.Finish();
        }

        try
        {
            await SendAsync(buffer.WrittenMemory, CancellationToken.None);
        }
        catch (ConecException)
        {
            // The caller stopped reading; the result has nowhere to go.
        }
        finally
        {
            _buffers.Add(buffer);
        }
    }

    private static void WriteError(ArrayBufferWriter<byte> buffer, RpcServerCall call, string type, string message, ConecError? error)
    {
        buffer.ResetWrittenCount();
        RpcFrame.WriteError(buffer, call.CallId, type, message, error);
    }

    public async ValueTask SendItemAsync(RpcServerCall call, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var buffer = call.Buffer ?? throw new InvalidOperationException("A one-way message cannot stream items.");
        buffer.ResetWrittenCount();
        RpcFrame.WriteItem(buffer, call.CallId, value);
        await SendAsync(buffer.WrittenMemory, cancellationToken);
    }

    /// <summary>Sends credit for a streamed argument (<see cref="RpcFrame.Credit"/>) or asks the caller to stop sending one (<see cref="RpcFrame.Cancel"/>).</summary>
    public async ValueTask SendControlAsync(int kind, long callId, long bytes, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            _control.ResetWrittenCount();
            if (kind == RpcFrame.Credit)
            {
                RpcFrame.WriteCredit(_control, callId, bytes);
            }
            else
            {
                RpcFrame.WriteCancel(_control, callId);
            }

            await _send.SendAsync(_control.WrittenMemory, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _send.SendAsync(frame, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The filters around one call, outermost first, then the handler; allocated only when there are filters.</summary>
    private sealed class FilterChain(RpcServerSession session, RpcFrame.Parsed frame, RpcServerCall call)
    {
        private RpcResult? _result;

        public async ValueTask<RpcResult> RunAsync()
        {
            await NextAsync(0);
            return _result ?? throw new InvalidOperationException(
                $"A filter of {call.Contract}.{call.Method} returned without calling next; a filter refuses a call by throwing.");
        }

        // A filter passes the context on; the handler always gets its own call, whatever object a filter passed.
        private ValueTask NextAsync(int index) => index < session._filters.Length
            ? session._filters[index].InvokeAsync(call, _ => NextAsync(index + 1))
            : HandleAsync();

        private async ValueTask HandleAsync() => _result = await session._handler(frame.MethodId, frame.Rest, call);
    }
}
