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

    /// <summary>p50 and p99 in microseconds of <paramref name="calls"/> 64-byte echo calls, one at a time.</summary>
    public static async Task<double[]> OneAtATimeAsync(Func<Task<IEchoCaller>> open, int calls)
    {
        await using var caller = await open();
        var payload = new byte[SmallPayload];
        var samples = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var echoed = await caller.EchoAsync(payload);
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

    private static void CheckLength(int length, int expected)
    {
        if (length != expected)
        {
            throw new InvalidOperationException($"A {expected}-byte payload came back as {length} bytes.");
        }
    }
}
