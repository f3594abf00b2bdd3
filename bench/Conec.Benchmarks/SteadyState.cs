using System.Runtime;

namespace Conec.Benchmarks;

/// <summary>
/// Brings a measured shape to the state a long-running process is in before it is timed: every variant, Conec and
/// baseline alike, runs unmeasured until a run (and the idle pause after it) compiles only a handful of methods, at
/// least twice and at most <see cref="MaxWarmUps"/> times; each run is followed by an idle pause until the JIT is done.
/// </summary>
/// <remarks>
/// Why the pauses: on two busy cores the runtime's tier-1 compilation (with dynamic PGO) runs in the background
/// and starves while the benchmark keeps both cores busy, so code that just started stays at its first,
/// unoptimized tier for many runs. Measured on this machine, Conec's broadcast fan-out to 50 receivers ran at
/// 0.6-0.8 M msg/s through four back-to-back runs and at 1.6 M msg/s once the runtime had an idle moment; with
/// tiered compilation off the pause changed the figure by under 10%, so the difference is tiering, not the pause.
/// Libraries precompiled for the framework (SslStream, Kestrel, SignalR) start from better code than an assembly
/// that is only JIT-compiled, so timing the first runs measures the deployment, not the design. Two warm-ups were not
/// always enough: tier-1 promotion counts calls only once the runtime has seen no new compilation for a moment, so a
/// method can stay at its first tier through a run, and 64-byte messages on one stream still rose from 2.2-3.3 to
/// 4.1-5.1 million per second over the next ten runs.
/// </remarks>
internal static class SteadyState
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private const int MaxPolls = 40;
    private const int MaxWarmUps = 6;

    // Measured on the 64-byte row: warm-ups compiled 275, 750, 379, 58, 12 and 2 methods; the runs after the sixth
    // varied by +-10% with no trend. A few methods a run are rare paths (timers, the thread pool), not the hot loop.
    private const int SettledCompilations = 16;

    /// <summary>Unmeasured runs of <paramref name="run"/>, each followed by <see cref="SettleAsync"/>, until one compiles almost nothing.</summary>
    public static async Task WarmUpAsync<T>(Func<Task<T>> run)
    {
        for (var i = 0; i < MaxWarmUps; i++)
        {
            var compiled = JitInfo.GetCompiledMethodCount();
            await run();
            await SettleAsync();
            if (i > 0 && JitInfo.GetCompiledMethodCount() - compiled < SettledCompilations)
            {
                return;
            }
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
