namespace Conec;

/// <summary>
/// Runs around every call a server serves (registered once in <see cref="RpcServerOptions.Filters"/>): before it,
/// after it, or instead of it by throwing. Filters run in the order registered, the first outermost.
/// </summary>
public interface IRpcServerFilter
{
    /// <summary>
    /// Handles one call: await <paramref name="inner"/> to run the rest of the chain and the handler (for a streamed
    /// result, until its last item is sent). Throwing fails the call with that exception, which the caller receives as
    /// a <see cref="ConecRemoteException"/>; returning without calling <paramref name="inner"/> fails it too.
    /// </summary>
    ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner);
}
