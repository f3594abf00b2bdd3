using System.Diagnostics;

namespace Conec.Benchmarks;

/// <summary>
/// The runs of the typed RPC rows, written once against <see cref="IEchoCaller"/> so that Conec and gRPC are
/// measured by the same code. Each run opens its caller, and the clock starts once it is open.
/// </summary>
internal static class EchoRuns
{
    public const int SmallPayload = 64;
    public const int LargePayload = 16 * 1024;

    /// <summary>Items a paused-reader run asks for: 256 MiB of 16 KiB items, far beyond any window, and bounded.</summary>
    public const int PausedItems = 16 * 1024;

    /// <summary>Items a paused reader reads before it stops.</summary>
    public const int ReadBeforePause = 10;

    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(1.5);

    /// <summary>p50 and p99 in microseconds of <paramref name="calls"/> 64-byte echo calls, one at a time.</summary>
    public static async Task<double[]> OneAtATimeAsync(Func<Task<IEchoCaller>> open, int calls)
    {
        await using var caller = await open();
        return await OneAtATimeAsync(caller.EchoAsync, calls);
    }

    /// <summary>
    /// p50 and p99 in microseconds of <paramref name="calls"/> 64-byte round trips made with <paramref name="echo"/>
    /// (which returns the length of what came back), one at a time: for callers that are no <see cref="IEchoCaller"/>.
    /// </summary>
    public static async Task<double[]> OneAtATimeAsync(Func<byte[], ValueTask<int>> echo, int calls)
    {
        var payload = new byte[SmallPayload];
        var samples = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var echoed = await echo(payload);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            CheckLength(echoed, SmallPayload);
        }

        var (p50, p99) = TransportBenchmark.Percentiles(samples);
        return [p50, p99];
    }

    /// <summary>
    /// Calls per second, and p50 and p99 in microseconds, of <paramref name="calls"/> 64-byte echo calls made by
    /// <paramref name="inFlight"/> concurrent callers sharing one caller.
    /// </summary>
    public static async Task<double[]> InFlightAsync(Func<Task<IEchoCaller>> open, int calls, int inFlight)
    {
        await using var caller = await open();
        var payload = new byte[SmallPayload];
        var samples = new double[calls];
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            int call;
            while ((call = Interlocked.Increment(ref next)) <= calls)
            {
                var start = Stopwatch.GetTimestamp();
                var echoed = await caller.EchoAsync(payload);
                samples[call - 1] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                CheckLength(echoed, SmallPayload);
            }
        })));
        var rate = calls / clock.Elapsed.TotalSeconds;
        var (p50, p99) = TransportBenchmark.Percentiles(samples);
        return [rate, p50, p99];
    }

    /// <summary>Items per second (or MB/s with <paramref name="megabytes"/>) of one streamed result of <paramref name="count"/> items.</summary>
    public static async Task<double> FloodAsync(Func<Task<IEchoCaller>> open, int count, int size, bool megabytes)
    {
        await using var caller = await open();
        var received = 0;
        var clock = Stopwatch.StartNew();
        await foreach (var length in caller.FloodAsync(count, size))
        {
            CheckLength(length, size);
            received++;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return received != count
            ? throw new InvalidOperationException($"{received} of {count} items arrived.")
            : megabytes ? (double)count * size / seconds / 1e6 : count / seconds;
    }

    /// <summary>
    /// What the calling process holds for a streamed result its reader stopped reading: starts a result of
    /// <see cref="PausedItems"/> 16 KiB items, reads <see cref="ReadBeforePause"/>, stops for <paramref name="pause"/>,
    /// then leaves the result (which cancels the call). Returns the growth of the live managed heap from just before
    /// the call to the end of the pause (<c>Held</c>), and over the pause alone (<c>DuringPause</c>: bytes that
    /// arrived while nobody read); each reading follows a full collection, so only what is held counts.
    /// </summary>
    public static async Task<(long Held, long DuringPause)> PausedReaderAsync(IEchoCaller caller, TimeSpan pause)
    {
        var start = GC.GetTotalMemory(forceFullCollection: true);
        var items = caller.FloodAsync(PausedItems, LargePayload).GetAsyncEnumerator();
        try
        {
            for (var i = 0; i < ReadBeforePause; i++)
            {
                if (!await items.MoveNextAsync())
                {
                    throw new InvalidOperationException($"The result ended after {i} items.");
                }

                CheckLength(items.Current, LargePayload);
            }

            var paused = GC.GetTotalMemory(forceFullCollection: true);
            await Task.Delay(pause);
            var end = GC.GetTotalMemory(forceFullCollection: true);
            return (end - start, end - paused);
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    private static void CheckLength(int length, int expected)
    {
        if (length != expected)
        {
            throw new InvalidOperationException($"A {expected}-byte payload came back as {length} bytes.");
        }
    }
}
