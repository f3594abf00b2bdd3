namespace Conec.Benchmarks;

/// <summary>
/// Round-trip latency through a coordinator in its own process (issue 20's rows), 64-byte payloads one at a time,
/// each beside a baseline in the same run: a proxied echo between two clients against NATS request/reply through
/// nats-server, an echo with the coordinator against a SignalR hub invocation, and generated RPC through the
/// coordinator against the raw proxied echo.
/// </summary>
internal static class LatencyBenchmark
{
    private const string NatsBaseline = "NATS request/reply (TLS)";
    private const string SignalRBaseline = "SignalR InvokeAsync";
    private const string RawBaseline = "raw proxied echo";

    // The targets are on the p50 rows; p99 is printed beside its baseline's.
    private const string ProxiedTarget = "<= 0.9x";
    private const string CoordinatorTarget = "<= 0.9x";
    private const string TypedTarget = "<= 1.15x";

    private static string Legend(string natsVersion) =>
        "Latency rows: 64-byte payloads, one round trip at a time after warm-up runs, in us. Conec's coordinator runs in a child\n" +
        "process (TLS 1.3, client certificates checked) and its clients in this process: 'proxied echo' is client to coordinator\n" +
        "to client (NewProxiedStreamAsync(peer)), echoed raw; 'echo with coordinator' a stream to the coordinator\n" +
        "(NewProxiedStreamAsync(null)) echoed raw on Coord.IncomingStreams; 'typed RPC relayed' a generated EchoClient calling\n" +
        $"IEcho.Echo on a client through the coordinator. NATS: nats-server {natsVersion} in its own process (TLS, no client certificates),\n" +
        "NATS.Net, one connection for the requester and one for the responder, RequestAsync<byte[], byte[]> answered by ReplyAsync.\n" +
        "SignalR: ASP.NET Core in a child process (Kestrel, HTTPS, WebSockets, MessagePack), InvokeAsync<byte[]> of a hub method\n" +
        "returning its argument, over one connection.";

    public static Task<RatioTable> RunAsync(BenchmarkScale scale, TextWriter progress) =>
        Peers.WithAsync(progress, peers => RowsAsync(peers, scale, progress));

    /// <summary>The same rows as medians of ratios taken pair by pair (see <see cref="PairedRatios"/>).</summary>
    public static Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs) =>
        Peers.WithAsync(TextWriter.Null, peers => PairedRowsAsync(peers, scale, pairs));

    private static async Task<RatioTable> RowsAsync(Peers peers, BenchmarkScale scale, TextWriter progress)
    {
        var table = new RatioTable();
        var calls = scale.RoundTrips;

        progress.WriteLine("proxied echo against NATS…");
        var proxied = await TypedBenchmark.BestFiguresAsync(scale, () => peers.Conec.ProxiedAsync(calls), lowerIsBetter: true);
        var nats = await TypedBenchmark.BestFiguresAsync(scale, () => peers.Nats.RunAsync(calls), lowerIsBetter: true);
        table.Add("proxied echo 64 B p50", "us", proxied[0], NatsBaseline, nats[0], lowerIsBetter: true, target: ProxiedTarget);
        table.Add("proxied echo 64 B p99", "us", proxied[1], NatsBaseline, nats[1], lowerIsBetter: true);

        progress.WriteLine("echo with the coordinator against SignalR…");
        var coordinator = await TypedBenchmark.BestFiguresAsync(scale, () => peers.Conec.ToCoordinatorAsync(calls), lowerIsBetter: true);
        var signalR = await TypedBenchmark.BestFiguresAsync(scale, () => peers.SignalR.RunAsync(calls), lowerIsBetter: true);
        table.Add("echo with coordinator 64 B p50", "us", coordinator[0], SignalRBaseline, signalR[0], lowerIsBetter: true, target: CoordinatorTarget);
        table.Add("echo with coordinator 64 B p99", "us", coordinator[1], SignalRBaseline, signalR[1], lowerIsBetter: true);

        // The raw echo is measured again beside the typed one: the first figure is older by every run since, and on a shared
        // machine the speed available drifts by more than the difference this row looks for.
        progress.WriteLine("typed RPC against the raw proxied echo…");
        var typed = await TypedBenchmark.BestFiguresAsync(scale, () => peers.Conec.TypedAsync(calls), lowerIsBetter: true);
        var raw = await TypedBenchmark.BestFiguresAsync(scale, () => peers.Conec.ProxiedAsync(calls), lowerIsBetter: true);
        table.Add("typed RPC relayed 64 B p50", "us", typed[0], RawBaseline, raw[0], lowerIsBetter: true, target: TypedTarget);
        table.Add("typed RPC relayed 64 B p99", "us", typed[1], RawBaseline, raw[1], lowerIsBetter: true);

        var hops = new List<string>();
        foreach (var (name, run) in new (string, Func<int, Task<double[]>>)[]
            { ("proxied echo", peers.Conec.ProxiedAsync), ("echo with coordinator", peers.Conec.ToCoordinatorAsync), ("typed RPC relayed", peers.Conec.TypedAsync) })
        {
            var (clientHops, coordinatorHops) = await peers.Conec.WorkItemsPerRoundTripAsync(run, calls);
            hops.Add($"{name} {clientHops:F1} + {coordinatorHops:F1}");
        }

        table.Note("Thread-pool work items per round trip (the clients' process + the coordinator's, setup included): " + string.Join(", ", hops) + ".");
        table.Note(Legend(peers.Nats.ServerVersion));
        return table;
    }

    private static async Task<PairedRatios> PairedRowsAsync(Peers peers, BenchmarkScale scale, int pairs)
    {
        var table = new PairedRatios();
        var calls = scale.RoundTrips;
        Task<double[]> Proxied() => peers.Conec.ProxiedAsync(calls);
        await table.AddFiguresAsync(["proxied echo 64 B p50", "proxied echo 64 B p99"], Proxied,
            NatsBaseline, () => peers.Nats.RunAsync(calls), pairs, [ProxiedTarget, ""]);
        await table.AddFiguresAsync(["echo with coordinator 64 B p50", "echo with coordinator 64 B p99"], () => peers.Conec.ToCoordinatorAsync(calls),
            SignalRBaseline, () => peers.SignalR.RunAsync(calls), pairs, [CoordinatorTarget, ""]);
        await table.AddFiguresAsync(["typed RPC relayed 64 B p50", "typed RPC relayed 64 B p99"], () => peers.Conec.TypedAsync(calls),
            RawBaseline, Proxied, pairs, [TypedTarget, ""]);
        var hops = new List<string>();
        foreach (var (name, run) in new (string, Func<int, Task<double[]>>)[]
            { ("proxied echo", peers.Conec.ProxiedAsync), ("echo with coordinator", peers.Conec.ToCoordinatorAsync), ("typed RPC relayed", peers.Conec.TypedAsync) })
        {
            var (clientHops, coordinatorHops) = await peers.Conec.WorkItemsPerRoundTripAsync(run, calls);
            hops.Add($"{name} {clientHops:F1} + {coordinatorHops:F1}");
        }

        table.Note("Thread-pool work items per round trip (the clients' process + the coordinator's, setup included): " + string.Join(", ", hops) + ".");
        table.Note(Legend(peers.Nats.ServerVersion));
        return table;
    }

    /// <summary>Every server and client of the rows, on one self-signed certificate written to a temporary folder.</summary>
    private sealed class Peers(string directory, CoordinatorEchoRig conec, NatsEcho nats, SignalREcho signalR) : IAsyncDisposable
    {
        public CoordinatorEchoRig Conec => conec;

        public NatsEcho Nats => nats;

        public SignalREcho SignalR => signalR;

        /// <summary>
        /// <paramref name="body"/>'s result with every peer started, which are stopped after it. Where the body
        /// fails and stopping fails too (a hung child is killed), both failures are thrown, the body's first.
        /// </summary>
        public static async Task<T> WithAsync<T>(TextWriter progress, Func<Peers, Task<T>> body)
        {
            var peers = await StartAsync(progress);
            T result;
            try
            {
                result = await body(peers);
            }
            catch (Exception failure)
            {
                try
                {
                    await peers.DisposeAsync();
                }
                catch (Exception stopping)
                {
                    throw new AggregateException(failure, stopping);
                }

                throw;
            }

            await peers.DisposeAsync();
            return result;
        }

        private static async Task<Peers> StartAsync(TextWriter progress)
        {
            var certificates = new BenchmarkCertificates();
            var directory = Directory.CreateTempSubdirectory("conec-latency-").FullName;
            var started = new List<IAsyncDisposable>();
            try
            {
                var certificatePath = Path.Combine(directory, "server.pem");
                var keyPath = Path.Combine(directory, "server.key");
                ConecCertificates.Save(certificates.ServerCertificate, certificatePath, keyPath);
                progress.WriteLine("starting the coordinator, nats-server and the SignalR server…");
                var conec = await CoordinatorEchoRig.StartAsync(certificates, certificatePath, keyPath);
                started.Add(conec);
                var nats = await NatsEcho.StartAsync(certificatePath, keyPath);
                started.Add(nats);
                var signalR = await SignalREcho.StartAsync(certificates, certificatePath, keyPath);
                return new Peers(directory, conec, nats, signalR);
            }
            catch
            {
                await DisposeAllAsync(started);
                Directory.Delete(directory, recursive: true);
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await DisposeAllAsync([conec, nats, signalR]);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        /// <summary>Disposes each, in order, even when one fails (each stops a process); the failures are thrown together.</summary>
        private static async Task DisposeAllAsync(IEnumerable<IAsyncDisposable> all)
        {
            List<Exception> failures = [];
            foreach (var one in all)
            {
                try
                {
                    await one.DisposeAsync();
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            }

            if (failures.Count > 0)
            {
                throw new AggregateException("Stopping the latency rows' peers failed.", failures);
            }
        }
    }
}
