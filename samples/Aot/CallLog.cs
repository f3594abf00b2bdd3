using System.Collections.Concurrent;

namespace Conec.Samples.Aot;

/// <summary>A server filter: records who called what, from the caller's authenticated id, around every call.</summary>
internal sealed class CallLog : IRpcServerFilter
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public async ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner)
    {
        await inner(context);
        Calls.Enqueue($"{context.Peer} called {context.Method}");
    }
}
