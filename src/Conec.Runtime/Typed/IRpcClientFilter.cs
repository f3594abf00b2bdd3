namespace Conec;

/// <summary>
/// Runs around every call a generated client makes (registered once in <see cref="RpcClientOptions.Filters"/>),
/// in the order registered, the first outermost.
/// </summary>
public interface IRpcClientFilter
{
    /// <summary>
    /// Handles one call: await <paramref name="inner"/> to send it and wait for its end (for a streamed result, until
    /// the caller has read the last item or stopped). Throwing before <paramref name="inner"/> keeps the call from being
    /// sent; returning without calling it fails the call.
    /// </summary>
    ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner);
}
