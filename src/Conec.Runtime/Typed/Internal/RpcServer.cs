using System.Buffers;
using System.Collections.Concurrent;
using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>
/// The serving end of an RPC stream, used by generated servers: calls run concurrently, a cancellation from the
/// caller cancels its handler, a streamed result waits for the caller's credit, and a handler's exception goes back
/// as its type and message.
/// </summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RpcServer
{
    /// <summary>Notifications have no result to stream; an item sent for one is a bug in the handler.</summary>
    private static readonly RpcItemSink NoItems = new(_ => throw new InvalidOperationException("A one-way message cannot stream items."));

    /// <summary>Serves calls arriving on <paramref name="receive"/> until the caller finishes the stream.</summary>
    public static async Task ServeAsync(OutStream send, InStream receive, RpcDispatcher dispatcher, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        ArgumentNullException.ThrowIfNull(dispatcher);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sendLock = new SemaphoreSlim(1, 1);
        var running = new ConcurrentDictionary<long, ServedCall>();
        var buffers = new ConcurrentBag<ArrayBufferWriter<byte>>();
        var calls = new List<Task>();
        try
        {
            while (await receive.ReadAsync(stopping.Token) is { } message)
            {
                var frame = RpcFrame.Parse(message);
                switch (frame.Kind)
                {
                    case RpcFrame.Request:
                        var call = new ServedCall(CancellationTokenSource.CreateLinkedTokenSource(stopping.Token),
                            frame.Window > 0 ? new StreamedResultCredit(frame.Window) : null);
                        running[frame.CallId] = call;
                        calls.Add(RunCallAsync(frame, call));
                        calls.RemoveAll(t => t.IsCompleted);
                        break;
                    case RpcFrame.Cancel when running.TryGetValue(frame.CallId, out var cancelled):
                        await cancelled.Cancel.CancelAsync();
                        break;
                    case RpcFrame.Credit when running.TryGetValue(frame.CallId, out var credited):
                        credited.Credit?.Grant(frame.Window);
                        break;
                    case RpcFrame.Cancel or RpcFrame.Credit:
                        break; // The call already finished; its result is on its way.
                    case RpcFrame.Notify:
                        await dispatcher(frame.MethodId, frame.Rest, NoItems, stopping.Token);
                        break;
                    default:
                        throw new ConecException(ConecError.MalformedMessage, $"The caller sent RPC message kind {frame.Kind}.");
                }
            }
        }
        finally
        {
            // The caller is gone or finished: handlers still running have nobody to answer.
            await stopping.CancelAsync();
            await Task.WhenAll(calls);
            await send.FinishAsync(CancellationToken.None);
        }

        async Task RunCallAsync(RpcFrame.Parsed frame, ServedCall call)
        {
            // One buffer per call at a time, reused from call to call: a call's items go out one after another.
            var buffer = buffers.TryTake(out var reused) ? reused : new ArrayBufferWriter<byte>(256);
            using var activity = Diagnostics.ConecTelemetry.Source.StartActivity(
                "conec.rpc.serve", System.Diagnostics.ActivityKind.Server, Diagnostics.ConecTelemetry.ParseTraceParent(frame.TraceParent));
            activity?.SetTag("rpc.system", "conec");
            activity?.SetTag("rpc.method_id", frame.MethodId);
            var items = new RpcItemSink(async value =>
            {
                if (call.Credit is { } credit)
                {
                    await credit.TakeAsync(value.Length, call.Cancel.Token);
                }

                buffer.ResetWrittenCount();
                RpcFrame.WriteItem(buffer, frame.CallId, value);
                await SendAsync(buffer.WrittenMemory, call.Cancel.Token);
            });
            try
            {
                var result = await dispatcher(frame.MethodId, frame.Rest, items, call.Cancel.Token);
                buffer.ResetWrittenCount();
                RpcFrame.WriteResult(buffer, frame.CallId, result.Value);
            }
            catch (Exception e) when (e is not ConecException { Error: ConecError.MalformedMessage })
            {
                // Any handler failure goes back to the caller as its type and message; the server keeps serving.
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
                buffer.ResetWrittenCount();
                RpcFrame.WriteError(buffer, frame.CallId, e.GetType().FullName ?? e.GetType().Name, e.Message);
            }
            finally
            {
                running.TryRemove(frame.CallId, out _);
                call.Cancel.Dispose();
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
                buffers.Add(buffer);
            }
        }

        async ValueTask SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
        {
            await sendLock.WaitAsync(cancellationToken);
            try
            {
                await send.SendAsync(frame, cancellationToken);
            }
            finally
            {
                sendLock.Release();
            }
        }
    }

    /// <summary>A call being served: its cancellation, and its credit when the caller asked for a windowed streamed result.</summary>
    private sealed record ServedCall(CancellationTokenSource Cancel, StreamedResultCredit? Credit);
}
