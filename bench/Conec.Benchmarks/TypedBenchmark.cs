using System.Diagnostics;
using MessagePack;

namespace Conec.Benchmarks;

/// <summary>
/// The generated code's cost: typed one-way messages against the same bytes sent pre-serialized, RPC calls with one
/// and with 64 in flight, and bytes allocated per message, all over one Conec TCP stream on loopback. Then generated
/// RPC over each way a client reaches a server (<see cref="EchoPath"/>) against grpc-dotnet, and what a caller holds
/// while it stops reading a streamed result.
/// </summary>
internal static class TypedBenchmark
{
    private const string GrpcBaseline = "gRPC (one hop)";
    private const int InFlight = 64;

    private const string GrpcLegend =
        "RPC rows: a generated EchoClient/EchoServer (IEcho) against grpc-dotnet 2.85 (Grpc.AspNetCore on Kestrel, HTTPS, HTTP/2;\n" +
        "Grpc.Net.Client, one GrpcChannel; Grpc.Tools code; 8 MiB message limits, as Conec's), servers and callers in this process\n" +
        "on loopback, both sides measured by the same code. 'to coordinator' is one hop (NewProxiedStreamAsync(null), served on\n" +
        "Coord.IncomingStreams), 'direct' one hop (a direct channel), 'relayed' two (client, coordinator, client); gRPC is one hop\n" +
        "in every pairing. Latencies in us; '64 in flight' is 64 callers sharing one EchoClient (one stream) or one gRPC client.";

    private static readonly string PausedLegend = string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"""
        'paused reader holds': a caller in a child process (the servers stay here) starts a result of {EchoRuns.PausedItems} items of 16 KiB
        (256 MiB), reads {EchoRuns.ReadBeforePause}, stops reading for {EchoRuns.Pause.TotalSeconds} s: growth of its live managed heap from just before the call to the
        end of the pause, and over the pause alone; a full GC before each reading, after one short unmeasured run.
        """);

    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, TextWriter progress)
    {
        var table = new RatioTable();
        var certificates = new BenchmarkCertificates();
        await using var pairs = await ConecPairs.StartAsync(certificates);
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

        await using var rig = await ConecEchoRig.StartAsync(certificates);
        await using var grpc = await GrpcEchoHost.StartAsync(certificates.ServerCertificate);
        await AddGrpcRowsAsync(table, scale, rig, grpc, progress);
        table.Note(GrpcLegend);

        progress.WriteLine("RPC against gRPC: paused reader…");
        await using var caller = await TypedCallerProcess.StartAsync(certificates, rig, grpc);
        foreach (var path in ConecEchoRig.Paths)
        {
            var held = await caller.PausedReaderAsync(path.ToString());
            var grpcHeld = await caller.PausedReaderAsync(TypedCallerProcess.Grpc);
            table.AddBeside(Row(path, "paused reader holds"), "KiB", held.Held / 1024.0, GrpcBaseline, grpcHeld.Held / 1024.0, lowerIsBetter: true);
            table.AddBeside("  of which arrived during the pause", "KiB", held.DuringPause / 1024.0, GrpcBaseline, grpcHeld.DuringPause / 1024.0, lowerIsBetter: true);
        }

        table.Note(PausedLegend);
        return table;
    }

    /// <summary>
    /// The RPC rows with targets, as medians of ratios taken pair by pair (see <see cref="PairedRatios"/>): each
    /// <see cref="EchoPath"/> against gRPC's one hop. The paused-reader rows are measured only without --paired.
    /// </summary>
    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs)
    {
        var certificates = new BenchmarkCertificates();
        await using var rig = await ConecEchoRig.StartAsync(certificates);
        await using var grpc = await GrpcEchoHost.StartAsync(certificates.ServerCertificate);
        var table = new PairedRatios();
        var (single, concurrent) = Calls(scale);
        foreach (var path in ConecEchoRig.Paths)
        {
            await table.AddFiguresAsync([Row(path, "64 B call p50"), Row(path, "64 B call p99")],
                () => EchoRuns.OneAtATimeAsync(() => rig.OpenAsync(path), single), GrpcBaseline,
                () => EchoRuns.OneAtATimeAsync(grpc.OpenAsync, single), pairs, [LatencyTarget(path), LatencyTarget(path)]);
        }

        foreach (var path in ConecEchoRig.Paths)
        {
            await table.AddFiguresAsync([Row(path, "64 in flight"), Row(path, "64 in flight p50"), Row(path, "64 in flight p99")],
                () => EchoRuns.InFlightAsync(() => rig.OpenAsync(path), concurrent, InFlight), GrpcBaseline,
                () => EchoRuns.InFlightAsync(grpc.OpenAsync, concurrent, InFlight), pairs, [InFlightTarget(path), "", ""]);
        }

        var smallItems = scale.Messages / 4; // each run shorter, many more of them
        var largeItems = (int)(scale.BulkBytes / 4 / EchoRuns.LargePayload);
        foreach (var path in ConecEchoRig.Paths)
        {
            await table.AddAsync(Row(path, "streamed 64 B"),
                () => EchoRuns.FloodAsync(() => rig.OpenAsync(path), smallItems, EchoRuns.SmallPayload, megabytes: false), GrpcBaseline,
                () => EchoRuns.FloodAsync(grpc.OpenAsync, smallItems, EchoRuns.SmallPayload, megabytes: false), pairs, SmallStreamTarget(path));
        }

        foreach (var path in ConecEchoRig.Paths)
        {
            await table.AddAsync(Row(path, "streamed 16 KiB"),
                () => EchoRuns.FloodAsync(() => rig.OpenAsync(path), largeItems, EchoRuns.LargePayload, megabytes: true), GrpcBaseline,
                () => EchoRuns.FloodAsync(grpc.OpenAsync, largeItems, EchoRuns.LargePayload, megabytes: true), pairs, LargeStreamTarget(path));
        }

        table.Note(GrpcLegend);
        table.Note("The paused-reader rows are measured only without --paired.");
        return table;
    }

    /// <summary>Each <see cref="EchoPath"/> against gRPC: calls one at a time, 64 in flight, and streamed results of 64 B and 16 KiB items.</summary>
    private static async Task AddGrpcRowsAsync(RatioTable table, BenchmarkScale scale, ConecEchoRig rig, GrpcEchoHost grpc, TextWriter progress)
    {
        var (single, concurrent) = Calls(scale);
        progress.WriteLine("RPC against gRPC: one call at a time…");
        var grpcOne = await BestFiguresAsync(scale, () => EchoRuns.OneAtATimeAsync(grpc.OpenAsync, single), lowerIsBetter: true);
        foreach (var path in ConecEchoRig.Paths)
        {
            var one = await BestFiguresAsync(scale, () => EchoRuns.OneAtATimeAsync(() => rig.OpenAsync(path), single), lowerIsBetter: true);
            table.Add(Row(path, "64 B call p50"), "us", one[0], GrpcBaseline, grpcOne[0], lowerIsBetter: true, target: LatencyTarget(path));
            table.Add(Row(path, "64 B call p99"), "us", one[1], GrpcBaseline, grpcOne[1], lowerIsBetter: true, target: LatencyTarget(path));
        }

        progress.WriteLine("RPC against gRPC: 64 in flight…");
        var grpcMany = await BestFiguresAsync(scale, () => EchoRuns.InFlightAsync(grpc.OpenAsync, concurrent, InFlight), lowerIsBetter: false);
        foreach (var path in ConecEchoRig.Paths)
        {
            var many = await BestFiguresAsync(scale, () => EchoRuns.InFlightAsync(() => rig.OpenAsync(path), concurrent, InFlight), lowerIsBetter: false);
            table.Add(Row(path, "64 in flight"), "calls/s", many[0], GrpcBaseline, grpcMany[0], target: InFlightTarget(path));
            table.Add(Row(path, "64 in flight p50"), "us", many[1], GrpcBaseline, grpcMany[1], lowerIsBetter: true);
            table.Add(Row(path, "64 in flight p99"), "us", many[2], GrpcBaseline, grpcMany[2], lowerIsBetter: true);
        }

        progress.WriteLine("RPC against gRPC: streamed results…");
        var largeItems = (int)(scale.BulkBytes / EchoRuns.LargePayload);
        Task<double> Small(Func<Task<IEchoCaller>> open) => EchoRuns.FloodAsync(open, scale.Messages, EchoRuns.SmallPayload, megabytes: false);
        Task<double> Large(Func<Task<IEchoCaller>> open) => EchoRuns.FloodAsync(open, largeItems, EchoRuns.LargePayload, megabytes: true);
        var grpcSmall = await TransportBenchmark.BestAsync(scale, () => Small(grpc.OpenAsync));
        var grpcLarge = await TransportBenchmark.BestAsync(scale, () => Large(grpc.OpenAsync));
        foreach (var path in ConecEchoRig.Paths)
        {
            var small = await TransportBenchmark.BestAsync(scale, () => Small(() => rig.OpenAsync(path)));
            table.Add(Row(path, "streamed 64 B"), "items/s", small, GrpcBaseline, grpcSmall, target: SmallStreamTarget(path));
        }

        foreach (var path in ConecEchoRig.Paths)
        {
            var large = await TransportBenchmark.BestAsync(scale, () => Large(() => rig.OpenAsync(path)));
            table.Add(Row(path, "streamed 16 KiB"), "MB/s", large, GrpcBaseline, grpcLarge, target: LargeStreamTarget(path));
        }
    }

    /// <summary>Calls per run: one at a time (enough for a p99), and with 64 in flight.</summary>
    private static (int Single, int Concurrent) Calls(BenchmarkScale scale) => (scale.RoundTrips, Math.Max(2000, scale.RoundTrips * 4));

    /// <summary>The run, of the scale's repeats at steady state, whose first figure is best.</summary>
    internal static async Task<double[]> BestFiguresAsync(BenchmarkScale scale, Func<Task<double[]>> run, bool lowerIsBetter)
    {
        await SteadyState.WarmUpAsync(run);
        double[]? best = null;
        for (var i = 0; i < scale.Repeats; i++)
        {
            var figures = await run();
            if (best is null || (lowerIsBetter ? figures[0] < best[0] : figures[0] > best[0]))
            {
                best = figures;
            }
        }

        return best!;
    }

    private static string Row(EchoPath path, string what) => $"{ConecEchoRig.Label(path)}: {what}";

    // The targets: one hop against gRPC's one hop; relayed (two hops) against gRPC's one hop too.
    private static string LatencyTarget(EchoPath path) => path == EchoPath.Relayed ? "<= 1x" : "<= 0.6x";

    private static string InFlightTarget(EchoPath path) => path == EchoPath.Relayed ? ">= 1x" : ">= 3x";

    private static string SmallStreamTarget(EchoPath path) => path == EchoPath.Relayed ? ">= 1x" : ">= 1.5x";

    private static string LargeStreamTarget(EchoPath path) => path == EchoPath.Relayed ? ">= 0.85x" : ">= 1.5x";

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
