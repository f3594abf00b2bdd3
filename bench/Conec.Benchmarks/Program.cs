using Conec.Benchmarks;

// `transport` (the default) measures Conec's TCP transport against plain SslStream and Nerdbank.Streams'
// MultiplexingStream; `coord` measures proxied streams, connect time and per-client memory of a coordinator;
// `channels` measures direct channels and broadcast fan-out against an ASP.NET Core SignalR hub group (Conec read
// through TaggedBroadcastInStream, as users read it, through a generated typed reader, and as raw bytes); `typed`
// measures the generated code against pre-serialized bytes, RPC with one and with 64 calls in flight, and generated
// RPC to the coordinator, over a direct channel and relayed against grpc-dotnet's unary and streaming calls; `load`
// measures a connect storm, coordinator memory with every client idle, and echo latency beside a busy broadcast;
// `coord --cluster` (always paired; needs redis-server) runs the proxied rows across two nodes of a cluster against both
// clients on one node, connect time to a node against a coordinator without a cluster, and Redis's load at steady state;
// `readers` pairs the broadcast readers users call (tagged, typed) with the raw stream read in the same fan-out (always paired);
// `latency` measures 64-byte round trips through a coordinator in its own process: a proxied echo against NATS
// request/reply through nats-server (which it starts itself; Debian's nats-server package), an echo with the
// coordinator against SignalR's InvokeAsync to a hub in a child process, and generated RPC against the raw proxied echo.
// Every figure is printed next to a baseline measured in the same run. With `--paired`, `transport`, `coord`,
// `channels`, `typed` and `latency` print their rows with targets as medians of back-to-back pairs instead (steadier on a shared machine);
// `--pairs=N` takes N pairs instead of 9 (more pairs, a steadier median, a longer run).
// `scale [--clients=N]` (issue 26) runs a coordinator in its own process with N clients (10,000 unless told; 1,000 with
// `--quick`) spread over client processes: a connect storm, memory and CPU with every client idle, a broadcast to all,
// mass disconnects, and past the coordinator's capacity how many got in and how the rest were refused.
// With `--quic`, the coordinator these benchmarks start in their own process, and its clients, run over QUIC (the
// baselines, and the coordinator processes of the memory and connect-storm rows, stay as they are; the coordinator
// process of `latency` follows it); it needs libmsquic.
var quick = args.Contains("--quick");
if (args.Contains("--quic"))
{
    if (!System.Net.Quic.QuicListener.IsSupported)
    {
        Console.Error.WriteLine("--quic needs QUIC, and libmsquic is missing here (QuicListener.IsSupported is false).");
        Environment.ExitCode = 2;
        return;
    }

    Conec.Benchmarks.CoordinationBenchmark.Transport = Conec.TransportMode.Quic;
}

var scale = quick ? BenchmarkScale.Quick : BenchmarkScale.Full;
var pairsOption = args.FirstOrDefault(a => a.StartsWith("--pairs=", StringComparison.Ordinal));
var pairs = pairsOption is null ? 9 : int.Parse(pairsOption["--pairs=".Length..], System.Globalization.CultureInfo.InvariantCulture);
if (pairs < 1)
{
    Console.Error.WriteLine("--pairs=N needs N of at least 1.");
    Environment.ExitCode = 2;
    return;
}

switch (args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)))
{
    case BroadcastLoadProcess.Mode:
        await BroadcastLoadProcess.RunAsync(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
        break;
    case "coord-child":
        await CoordinatorProcess.RunCoordinatorAsync(args[1], args[2]);
        break;
    case "coord-quic-child":
        await CoordinatorProcess.RunCoordinatorAsync(args[1], args[2], Conec.TransportMode.Quic);
        break;
    case CoordinatorProcess.EchoMode:
        await CoordinatorProcess.RunCoordinatorAsync(args[1], args[2], Enum.Parse<Conec.TransportMode>(args[3]), echo: true);
        break;
    case SignalREcho.Mode:
        await SignalRFanOut.RunChildAsync(args[1], args[2]);
        break;
    case TypedCallerProcess.Mode:
        await TypedCallerProcess.RunAsync(args[1], args[2], args[3], args[4], args[5]);
        break;
    case ScaleClients.Mode:
        await ScaleClients.RunAsync(args[1], args[2], args[3], args[4]);
        break;
    case "scale":
        var clientsOption = args.FirstOrDefault(a => a.StartsWith("--clients=", StringComparison.Ordinal));
        var clients = clientsOption is null ? (quick ? 1_000 : 10_000) : int.Parse(clientsOption["--clients=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        if (clients < 2)
        {
            Console.Error.WriteLine("--clients=N needs N of at least 2.");
            Environment.ExitCode = 2;
            return;
        }

        var scaleTable = await ScaleBenchmark.RunAsync(clients, quick, Console.Error);
        scaleTable.Print(Console.Out);
        break;
    case "tls-child":
        await CoordinatorProcess.RunTlsServerAsync(args[1], args[2]);
        break;
    case "coord" when args.Contains("--cluster"):
        var cluster = await ClusterBenchmark.RunPairedAsync(scale, pairs, quick ? 100 : 1000);
        cluster.Print(Console.Out, pairs);
        break;
    case "coord" when args.Contains("--paired"):
        var pairedCoordination = await CoordinationBenchmark.RunPairedAsync(scale, pairs);
        pairedCoordination.Print(Console.Out, pairs);
        break;
    case "coord":
        var coordination = await CoordinationBenchmark.RunAsync(scale, quick ? 200 : 1000, Console.Error);
        coordination.Print(Console.Out);
        break;
    case "channels" when args.Contains("--cluster"):
        var clusterChannels = await ClusterChannelsBenchmark.RunAsync(scale, quick, Console.Error);
        clusterChannels.Print(Console.Out);
        break;
    case "channels" when args.Contains("--paired"):
        var pairedChannels = await ChannelsBenchmark.RunPairedAsync(scale, pairs);
        pairedChannels.Print(Console.Out, pairs);
        break;
    case "channels":
        var channels = await ChannelsBenchmark.RunAsync(scale, quick, Console.Error);
        channels.Print(Console.Out);
        break;
    case "load":
        var load = await LoadBenchmark.RunAsync(scale, quick ? 200 : 1000, quick ? 20 : 100, Console.Error);
        load.Print(Console.Out);
        break;
    case "readers":
        var readers = await ReadersBenchmark.RunPairedAsync(scale, pairs);
        readers.Print(Console.Out, pairs);
        break;
    case "typed" when args.Contains("--paired"):
        var pairedTyped = await TypedBenchmark.RunPairedAsync(scale, pairs);
        pairedTyped.Print(Console.Out, pairs);
        break;
    case "typed":
        var typed = await TypedBenchmark.RunAsync(scale, Console.Error);
        typed.Print(Console.Out);
        break;
    case "latency" when args.Contains("--paired"):
        var pairedLatency = await LatencyBenchmark.RunPairedAsync(scale, pairs);
        pairedLatency.Print(Console.Out, pairs);
        break;
    case "latency":
        var latency = await LatencyBenchmark.RunAsync(scale, Console.Error);
        latency.Print(Console.Out);
        break;
    case null or "transport" when args.Contains("--paired"):
        var paired = await TransportBenchmark.RunPairedAsync(scale, pairs);
        paired.Print(Console.Out, pairs);
        break;
    case null or "transport":
        var transport = await TransportBenchmark.RunAsync(scale);
        transport.Print(Console.Out);
        break;
    default:
        Console.Error.WriteLine("usage: Conec.Benchmarks [transport [--paired]|coord [--paired|--cluster]|channels [--paired|--cluster]|typed [--paired]|latency [--paired]|readers|load|scale [--clients=N]] [--pairs=N] [--quick] [--quic]");
        Environment.ExitCode = 2;
        break;
}
