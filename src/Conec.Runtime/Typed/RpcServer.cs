using System.Buffers;
using System.Collections.Concurrent;
using MessagePack;

namespace Conec;

/// <summary>Runs one call: the generated server deserializes the arguments, calls the implementation, serializes the result.</summary>
/// <param name="methodId">The contract method's id.</param>
/// <param name="arguments">The arguments as one MessagePack array.</param>
/// <param name="items">Where a streamed result's items go, before the dispatcher returns.</param>
/// <param name="cancellationToken">Cancelled when the caller cancels the call or the stream ends.</param>
public delegate ValueTask<RpcResult> RpcDispatcher(int methodId, ReadOnlyMemory<byte> arguments, RpcItemSink items, CancellationToken cancellationToken);

/// <summary>
/// The serving end of an RPC stream, used by generated servers: calls run concurrently, a cancellation from the
/// caller cancels its handler, and a handler's exception goes back as its type and message.
/// </summary>
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
        var running = new ConcurrentDictionary<long, CancellationTokenSource>();
        var calls = new List<Task>();
        try
        {
            while (await receive.ReadAsync(stopping.Token) is { } message)
            {
                var frame = RpcFrame.Parse(message);
                switch (frame.Kind)
                {
                    case RpcFrame.Request:
                        var callCancel = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
                        running[frame.CallId] = callCancel;
                        calls.Add(RunCallAsync(frame, callCancel));
                        calls.RemoveAll(t => t.IsCompleted);
                        break;
                    case RpcFrame.Cancel when running.TryGetValue(frame.CallId, out var cancel):
                        await cancel.CancelAsync();
                        break;
                    case RpcFrame.Cancel:
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

        async Task RunCallAsync(RpcFrame.Parsed frame, CancellationTokenSource callCancel)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using var activity = Diagnostics.ConecTelemetry.Source.StartActivity(
                "conec.rpc.serve", System.Diagnostics.ActivityKind.Server, Diagnostics.ConecTelemetry.ParseTraceParent(frame.TraceParent));
            activity?.SetTag("rpc.system", "conec");
            activity?.SetTag("rpc.method_id", frame.MethodId);
            var items = new RpcItemSink(value => SendFrameAsync(b => RpcFrame.WriteItem(b, frame.CallId, value), callCancel.Token));
            try
            {
                var result = await dispatcher(frame.MethodId, frame.Rest, items, callCancel.Token);
                RpcFrame.WriteResult(buffer, frame.CallId, result.Value);
            }
            catch (Exception e) when (e is not ConecException { Error: ConecError.MalformedMessage })
            {
                // Any handler failure goes back to the caller as its type and message; the server keeps serving.
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
                RpcFrame.WriteError(buffer, frame.CallId, e.GetType().FullName ?? e.GetType().Name, e.Message);
            }
            finally
            {
                running.TryRemove(frame.CallId, out _);
                callCancel.Dispose();
            }

            try
            {
                await SendFrameAsync(b => b.Write(buffer.WrittenSpan), CancellationToken.None);
            }
            catch (ConecException)
            {
                // The caller stopped reading; the result has nowhere to go.
            }
        }

        async ValueTask SendFrameAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
        {
            var frame = new ArrayBufferWriter<byte>();
            write(frame);
            await sendLock.WaitAsync(cancellationToken);
            try
            {
                await send.SendAsync(frame.WrittenMemory, cancellationToken);
            }
            finally
            {
                sendLock.Release();
            }
        }
    }
}
