using System.Diagnostics;
using MessagePack;

namespace Conec.Benchmarks;

/// <summary>
/// The generated code's cost: typed one-way messages against the same bytes sent pre-serialized, RPC calls with one
/// and with 64 in flight, and bytes allocated per message, all over one Conec TCP stream on loopback.
/// </summary>
internal static class TypedBenchmark
{
    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, TextWriter progress)
    {
        var table = new RatioTable();
        await using var pairs = await ConecPairs.StartAsync(new BenchmarkCertificates());
        var count = scale.Messages;

        progress.WriteLine("typed one-way…");
        var raw = await TransportBenchmark.BestAsync(scale, () => RawAsync(pairs, count).ContinueWith(t => t.Result.Rate, TaskScheduler.Default));
        var typed = await TransportBenchmark.BestAsync(scale, () => TypedAsync(pairs, count).ContinueWith(t => t.Result.Rate, TaskScheduler.Default));
        table.Add("typed one-way, 3-field record", "msg/s", typed, "same bytes pre-serialized", raw, target: ">= 0.8x");
        var rawBytes = (await RawAsync(pairs, count)).BytesPerMessage;
        var typedBytes = (await TypedAsync(pairs, count)).BytesPerMessage;
        table.Add("allocated per message, send + receive", "B", typedBytes, "same bytes pre-serialized", rawBytes, lowerIsBetter: true,
            target: "only the message objects");

        progress.WriteLine("RPC…");
        var calls = Math.Max(2000, scale.RoundTrips * 4);
        var one = await TransportBenchmark.BestAsync(scale, () => RpcAsync(pairs, calls, inFlight: 1));
        var many = await TransportBenchmark.BestAsync(scale, () => RpcAsync(pairs, calls, inFlight: 64));
        table.Add("RPC calls, 64 in flight", "calls/s", many, "RPC calls, 1 in flight", one, target: ">= 10x");
        return table;
    }

    private static async Task<(double Rate, double BytesPerMessage)> RawAsync(ConecPairs pairs, int count)
    {
        var (send, receive) = await CoordinationBenchmark.OpenDirectAsync(pairs);
        var message = MessagePackSerializer.Serialize(new object[] { 1, new Reading(7, 21.5, 1_700_000_000) });
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                _ = await receive.ReadSequenceAsync() ?? throw new EndOfStreamException();
            }
        });
        for (var i = 0; i < count; i++)
        {
            await send.SendAsync(message);
        }

        await reading;
        var rate = count / clock.Elapsed.TotalSeconds;
        var perMessage = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / count;
        await send.FinishAsync();
        return (rate, perMessage);
    }

    private static async Task<(double Rate, double BytesPerMessage)> TypedAsync(ConecPairs pairs, int count)
    {
        var (send, receive) = await CoordinationBenchmark.OpenDirectAsync(pairs);
        var sender = new TelemetrySender(send);
        var receiver = new TelemetryReceiver(receive);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                _ = await receiver.ReceiveAsync() ?? throw new EndOfStreamException();
            }
        });
        for (var i = 0; i < count; i++)
        {
            await sender.Report(new Reading(7, 21.5, 1_700_000_000));
        }

        await reading;
        var rate = count / clock.Elapsed.TotalSeconds;
        var perMessage = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / count;
        await send.FinishAsync();
        return (rate, perMessage);
    }

    private static async Task<double> RpcAsync(ConecPairs pairs, int calls, int inFlight)
    {
        var (clientStream, serverStream) = await pairs.OpenRawAsync();
        var max = 1024 * 1024;
        var serving = TelemetryServer.ServeAsync(new Telemetry(), new StreamPair(new OutStream(serverStream, max), new InStream(serverStream, max)));
        await using var client = new TelemetryClient(new StreamPair(new OutStream(clientStream, max), new InStream(clientStream, max)));
        var clock = Stopwatch.StartNew();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= calls)
            {
                _ = await client.Add(1, 2, CancellationToken.None);
            }
        })));
        var rate = calls / clock.Elapsed.TotalSeconds;
        await client.DisposeAsync();
        await serving;
        return rate;
    }
}
