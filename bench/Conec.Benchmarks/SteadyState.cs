using System.Runtime;

namespace Conec.Benchmarks;

/// <summary>
/// Brings a measured shape to the state a long-running process is in before it is timed: every variant, Conec and
/// baseline alike, runs unmeasured twice, each time followed by an idle pause until the JIT has finished compiling.
/// </summary>
/// <remarks>
/// Why the pauses: on two busy cores the runtime's tier-1 compilation (with dynamic PGO) runs in the background
/// and starves while the benchmark keeps both cores busy, so code that just started stays at its first,
/// unoptimized tier for many runs. Measured on this machine, Conec's broadcast fan-out to 50 receivers ran at
/// 0.6-0.8 M msg/s through four back-to-back runs and at 1.6 M msg/s once the runtime had an idle moment; with
/// tiered compilation off the pause changed the figure by under 10%, so the difference is tiering, not the pause.
/// Libraries precompiled for the framework (SslStream, Kestrel, SignalR) start from better code than an assembly
/// that is only JIT-compiled, so timing the first runs measures the deployment, not the design.
/// </remarks>
internal static class SteadyState
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private const int MaxPolls = 40;

    /// <summary>Two unmeasured runs of <paramref name="run"/>, each followed by <see cref="SettleAsync"/>.</summary>
    public static async Task WarmUpAsync<T>(Func<Task<T>> run)
    {
        for (var i = 0; i < 2; i++)
        {
            await run();
            await SettleAsync();
        }
    }

    /// <summary>Waits, idle, until no method has been compiled for one poll interval (at most ten seconds).</summary>
    public static async Task SettleAsync()
    {
        var compiled = JitInfo.GetCompiledMethodCount();
        for (var i = 0; i < MaxPolls; i++)
        {
            await Task.Delay(Poll);
            var now = JitInfo.GetCompiledMethodCount();
            if (now == compiled)
            {
                return;
            }

            compiled = now;
        }
    }
}
