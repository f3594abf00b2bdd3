namespace Conec.Typed.Internal;

/// <summary>
/// Sends a call's streamed argument: each item once the server's credit allows, then the end. The call's end, or
/// the server's asking it to stop, ends it early; a failure of the caller's own sequence fails the call. The call
/// does not wait for its pump to end: a caller's sequence that ignores cancellation must not hold a finished call.
/// </summary>
internal abstract class RpcArgumentPump
{
    public abstract Task RunAsync(RpcConnection connection, long callId, RpcPendingCall call);
}

/// <summary>The pump for items of <typeparamref name="T"/>, serialized by the contract's own writer.</summary>
internal sealed class RpcArgumentPump<T>(IAsyncEnumerable<T> items, Func<T, ReadOnlyMemory<byte>> encode) : RpcArgumentPump
{
    public override async Task RunAsync(RpcConnection connection, long callId, RpcPendingCall call)
    {
        var stop = call.StopArgument!;
        var credit = call.ArgumentCredit!;
        var token = stop.Token;
        try
        {
            await foreach (var item in items.WithCancellation(token).ConfigureAwait(false))
            {
                // Checked here too: credit taken without waiting does not look at the token, nor may the caller's sequence.
                token.ThrowIfCancellationRequested();
                var serialized = encode(item);
                await credit.TakeAsync(serialized.Length, token);
                if (!connection.SendControl(RpcFrame.Item, callId, serialized))
                {
                    return; // the client was disposed or its stream failed, which failed the call
                }
            }

            connection.SendControl(RpcFrame.End, callId, default);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The call ended, or the server read what it needed: nothing more is wanted.
        }
        catch (Exception e)
        {
            // The caller's own sequence failed: the call fails with its exception, and the server's handler is cancelled.
            call.Fail(e);
            connection.SendControl(RpcFrame.Cancel, callId, default);
        }
    }
}
