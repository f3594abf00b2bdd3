using System.Diagnostics;
using System.Buffers;
using System.Net;
using Conec.Transport;

namespace Conec.Benchmarks;

/// <summary>
/// The load benchmark: a connect storm to a coordinator process, that process's memory with every client idle,
/// and the latency of a proxied echo while a broadcast to many members runs flat out. Each figure has a baseline
/// from the same run: bare TLS handshakes and connections to a TLS-only server process, and the same echo with
/// the broadcast quiet. The TLS-only server completes its handshakes concurrently, as the coordinator does.
/// </summary>
internal static class LoadBenchmark
{
    private const int StormConcurrency = 32;

    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, int clients, int members, TextWriter progress)
    {
        var table = new RatioTable();
        var certificates = new BenchmarkCertificates();
        var directory = Directory.CreateTempSubdirectory("conec-load-").FullName;
        try
        {
            var certificatePath = Path.Combine(directory, "server.pem");
            var keyPath = Path.Combine(directory, "server.key");
            ConecCertificates.Save(certificates.ServerCertificate, certificatePath, keyPath);

            // Identities are made beforehand: a deployed client has its certificate already.
            progress.WriteLine($"making {clients} client certificates…");
            var identities = Enumerable.Range(0, clients).Select(i => ConecCertificates.CreateSelfSigned($"storm{i}")).ToArray();
            var tlsIdentities = Enumerable.Range(0, clients).Select(i => ConecCertificates.CreateSelfSigned($"tls{i}")).ToArray();

            progress.WriteLine($"connect storm of {clients} clients…");
            var (conecRate, conecMemory, conecManaged) = await StormAsync("coord-child", certificatePath, keyPath, clients,
                async (endPoint, i) => await CoordinationBenchmark.ConnectAsync(endPoint, certificates, $"storm{i}", identities[i], TransportMode.Tcp));
            var (tlsRate, tlsMemory, tlsManaged) = await StormAsync("tls-child", certificatePath, keyPath, clients,
                async (endPoint, i) => await CoordinationBenchmark.ConnectTlsAsync(endPoint, certificates, tlsIdentities[i]));
            table.Add($"connect storm, {clients} clients", "clients/s", conecRate, "TLS-only server, concurrent", tlsRate);
            table.Add($"coordinator, {clients} idle clients", "MiB", conecMemory, "TLS-only server, same count", tlsMemory, lowerIsBetter: true);
            table.Add("  of which live managed heap", "MiB", conecManaged, "TLS-only server, same count", tlsManaged, lowerIsBetter: true);

            progress.WriteLine($"proxied echo beside a {members}-member broadcast…");
            var echo = await EchoUnderBroadcastAsync(certificates, certificatePath, keyPath, members, scale.RoundTrips);
            table.Add("echo p50, broadcast flat out", "us", echo.FlatOut.P50, "echo p50, broadcast quiet", echo.Quiet.P50, lowerIsBetter: true);
            table.Add("echo p99, broadcast flat out", "us", echo.FlatOut.P99, "echo p99, broadcast quiet", echo.Quiet.P99, lowerIsBetter: true);
            table.Add("echo p50, broadcast at half rate", "us", echo.Half.P50, "echo p50, broadcast quiet", echo.Quiet.P50, lowerIsBetter: true);
            table.Add("echo p99, broadcast at half rate", "us", echo.Half.P99, "echo p99, broadcast quiet", echo.Quiet.P99, lowerIsBetter: true);
            table.AddAbsolute($"deliveries/s flat out, {members} members", "msg/s", echo.FlatOutDeliveries, "");
            return table;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Connects <paramref name="count"/> peers, <see cref="StormConcurrency"/> at a time, to a fresh server process; returns
    /// peers per second, and the process's resident private memory and live managed heap (MiB) with all of them idle.
    /// </summary>
    private static async Task<(double Rate, double PrivateMiB, double ManagedMiB)> StormAsync(
        string mode, string certificatePath, string keyPath, int count, Func<IPEndPoint, int, Task<IAsyncDisposable>> connect)
    {
        await using var child = await CoordinatorProcess.StartAsync(mode, certificatePath, keyPath);
        var endPoint = new IPEndPoint(IPAddress.Loopback, child.Port);
        await (await connect(endPoint, count - 1)).DisposeAsync(); // warm-up: JIT and TLS library state are not per peer
        var peers = new IAsyncDisposable[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, StormConcurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                peers[i] = await connect(endPoint, i);
            }
        })));
        var rate = count / clock.Elapsed.TotalSeconds;
        var (managedBytes, privateBytes, _) = await child.MeasureAsync();
        foreach (var peer in peers)
        {
            await peer.DisposeAsync();
        }

        return (rate, privateBytes / 1024.0 / 1024.0, managedBytes / 1024.0 / 1024.0);
    }

    private sealed record EchoFigures((double P50, double P99) Quiet, (double P50, double P99) FlatOut, (double P50, double P99) Half, double FlatOutDeliveries);

    /// <summary>
    /// A 64-byte proxied echo, timed with the broadcast quiet, running flat out (which saturates this machine's
    /// cores, so the echo waits its turn for CPU), and paced at half the flat-out rate (a busy but sustainable load).
    /// The coordinator, the broadcast's members and the echo's two clients run in three processes, as deployed: in
    /// one process the members' read loops would take the echo's thread pool, which measures the benchmark instead.
    /// </summary>
    private static async Task<EchoFigures> EchoUnderBroadcastAsync(BenchmarkCertificates certificates, string certificatePath, string keyPath, int members, int roundTrips)
    {
        var mode = CoordinationBenchmark.Transport == TransportMode.Quic ? "coord-quic-child" : "coord-child";
        await using var coord = await CoordinatorProcess.StartAsync(mode, certificatePath, keyPath);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.Port);
        await using var pinger = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "pinger");
        await using var ponger = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "ponger");
        var pair = await pinger.NewProxiedStreamAsync("ponger");
        await using var incoming = ponger.IncomingStreams.GetAsyncEnumerator();
        await incoming.MoveNextAsync();
        var echo = Task.Run(() => RawEcho.ServeAsync(incoming.Current.Send, incoming.Current.Receive));
        var quiet = await EchoTimesAsync(pair, roundTrips);

        await using var broadcast = await BroadcastLoadDriver.StartAsync(certificatePath, coord.Port, members);
        await broadcast.StartAsync();
        var flatOut = await EchoTimesAsync(pair, roundTrips);
        var (sent, delivered, seconds) = await broadcast.StopAsync();

        await broadcast.StartAsync(perSecond: sent / seconds / 2);
        var half = await EchoTimesAsync(pair, roundTrips);
        await broadcast.StopAsync();

        await pair.Send.FinishAsync();
        await echo;
        return new EchoFigures(quiet, flatOut, half, delivered / seconds);
    }

    private static async Task<(double P50, double P99)> EchoTimesAsync(StreamPair pair, int roundTrips)
    {
        var figures = await EchoRuns.OneAtATimeAsync(payload => RawEcho.CallAsync(pair, payload), roundTrips);
        return (figures[0], figures[1]);
    }
}
