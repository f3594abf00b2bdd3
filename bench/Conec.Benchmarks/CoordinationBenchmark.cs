using System.Diagnostics;
using System.Net;
using Conec.Transport;

namespace Conec.Benchmarks;

/// <summary>
/// The coordinator benchmark: proxied streams between two clients through a local coordinator against one-hop
/// baselines, client connect time against a bare TLS handshake, and coordinator memory per idle client.
/// </summary>
internal static class CoordinationBenchmark
{
    private const int BulkMessage = 64 * 1024;
    private const int SmallMessage = 64;

    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, int idleClients, TextWriter progress)
    {
        var table = new RatioTable();
        await using var rig = await ProxiedRig.StartAsync();
        var (certificates, ssl, direct, sender, receiver) = (rig.Certificates, rig.Ssl, rig.Direct, rig.Sender, rig.Receiver);
        var endPoint = rig.EndPoint;

        progress.WriteLine("bulk…");
        var proxiedBulk = await TransportBenchmark.BestAsync(scale, () => MessagesAsync(
            () => OpenProxiedAsync(sender, receiver), BulkMessage, (int)(scale.BulkBytes / BulkMessage), megabytes: true));
        var directBulk = await TransportBenchmark.BestAsync(scale, () => MessagesAsync(
            () => OpenDirectAsync(direct), BulkMessage, (int)(scale.BulkBytes / BulkMessage), megabytes: true));
        var sslBulk = await TransportBenchmark.BestAsync(scale, () => TransportBenchmark.BulkAsync(ssl, 1, scale.BulkBytes));
        table.Add("proxied bulk, 64 KiB messages", "MB/s", proxiedBulk, "one-hop SslStream", sslBulk, target: ">= 0.45x");
        table.Add("proxied bulk, 64 KiB messages", "MB/s", proxiedBulk, "one-hop Conec TCP stream", directBulk);

        progress.WriteLine("small messages…");
        var proxiedSmall = await TransportBenchmark.BestAsync(scale, () => MessagesAsync(
            () => OpenProxiedAsync(sender, receiver), SmallMessage, scale.Messages, megabytes: false));
        var directSmall = await TransportBenchmark.BestAsync(scale, () => MessagesAsync(
            () => OpenDirectAsync(direct), SmallMessage, scale.Messages, megabytes: false));
        var sslSmall = await TransportBenchmark.BestAsync(scale, () => TransportBenchmark.FramedMessagesAsync(ssl, scale.Messages));
        table.Add("proxied 64-byte messages", "msg/s", proxiedSmall, "one-hop Conec TCP stream", directSmall);
        table.Add("proxied 64-byte messages", "msg/s", proxiedSmall, "one-hop framed SslStream", sslSmall);

        progress.WriteLine("connect…");
        var connects = Math.Max(50, scale.RoundTrips / 20);
        var (connectP50, connectP99) = await ConnectTimesAsync(endPoint, certificates, connects);
        var (tlsP50, tlsP99) = await TlsHandshakeTimesAsync(certificates, connects);
        table.Add("client connect p50", "ms", connectP50, "bare TLS handshake p50", tlsP50, lowerIsBetter: true, target: "<= 1.5x");
        table.Add("client connect p99", "ms", connectP99, "bare TLS handshake p99", tlsP99, lowerIsBetter: true);
        var (reconnectP50, _) = await ConnectTimesAsync(endPoint, certificates, connects, oneCertificate: true);
        table.Add("client connect p50, certificate used before", "ms", reconnectP50, "bare TLS handshake p50", tlsP50, lowerIsBetter: true);

        progress.WriteLine($"{idleClients} idle clients…");
        var (managed, native) = await IdleMemoryAsync("coord-child", certificates, idleClients,
            async (endPoint, i) => await ConnectAsync(endPoint, certificates, i < 0 ? "warmup" : $"idle{i}", transport: TransportMode.Tcp), progress);
        var (tlsManaged, tlsNative) = await IdleMemoryAsync("tls-child", certificates, idleClients,
            async (endPoint, _) => await ConnectTlsAsync(endPoint, certificates), progress);
        table.Add("coordinator memory per idle client", "KiB", managed + native, "bare TLS server per conn.", tlsManaged + tlsNative,
            lowerIsBetter: true, target: "<= 64 KiB");
        table.Add("  of which managed heap", "KiB", managed, "bare TLS server per conn.", tlsManaged, lowerIsBetter: true);
        table.Add("  of which outside the GC heap", "KiB", native, "bare TLS server per conn.", tlsNative, lowerIsBetter: true);

        // QUIC, the default transport wherever the platform has it, keeps its TLS state inside msquic rather than in
        // OpenSSL sessions over sockets: measured where libmsquic is present, against the same bare TLS baseline.
        if (System.Net.Quic.QuicListener.IsSupported)
        {
            var (quicManaged, quicNative) = await IdleMemoryAsync("coord-quic-child", certificates, idleClients,
                async (endPoint, i) => await ConnectAsync(endPoint, certificates, i < 0 ? "warmup" : $"idle{i}", transport: TransportMode.Quic), progress);
            table.Add("coordinator memory per idle client, QUIC", "KiB", quicManaged + quicNative, "bare TLS server per conn.", tlsManaged + tlsNative,
                lowerIsBetter: true, target: "<= 64 KiB");
        }
        else
        {
            progress.WriteLine("QUIC idle memory not measured: libmsquic is missing (QuicListener.IsSupported is false).");
        }

        return table;
    }

    /// <summary>Proxied bulk as medians of back-to-back pairs (see <see cref="PairedRatios"/>).</summary>
    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs)
    {
        await using var rig = await ProxiedRig.StartAsync();
        var (ssl, direct, sender, receiver) = (rig.Ssl, rig.Direct, rig.Sender, rig.Receiver);
        var messages = (int)(scale.BulkBytes / 4 / BulkMessage);
        Task<double> Proxied() => MessagesAsync(() => OpenProxiedAsync(sender, receiver), BulkMessage, messages, megabytes: true);
        var table = new PairedRatios();
        await table.AddAsync("proxied bulk, 64 KiB messages", Proxied, "one-hop SslStream",
            () => TransportBenchmark.BulkAsync(ssl, 1, scale.BulkBytes / 4), pairs, ">= 0.45x");
        await table.AddAsync("proxied bulk, 64 KiB messages", Proxied, "one-hop Conec TCP stream",
            () => MessagesAsync(() => OpenDirectAsync(direct), BulkMessage, messages, megabytes: true), pairs);
        return table;
    }

    /// <summary>
    /// The transport of the in-process coordinator and its clients: TCP (the transport the baselines use) unless
    /// `--quic` asks for QUIC. Child processes (idle memory, load) name theirs explicitly.
    /// </summary>
    internal static TransportMode Transport { get; set; } = TransportMode.Tcp;

    /// <summary>A coordinator in this process on a loopback port, over <see cref="Transport"/>.</summary>
    internal static Task<Coord> StartCoordAsync(BenchmarkCertificates certificates) => Coord.StartAsync(new CoordConfig
    {
        Address = IPAddress.Loopback,
        Port = 0,
        Certificate = certificates.ServerCertificate,
        Transport = Transport,
    });

    internal static Task<Client> ConnectAsync(IPEndPoint endPoint, BenchmarkCertificates certificates, string id,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, TransportMode? transport = null) =>
        ConnectAsync(endPoint, certificates.ServerCertificate, id, certificate, transport ?? Transport);

    /// <summary>A client of the coordinator at <paramref name="endPoint"/> that trusts only <paramref name="authority"/>; <paramref name="listen"/> as <see cref="ClientConfig.Listen"/>.</summary>
    internal static Task<Client> ConnectAsync(IPEndPoint endPoint, System.Security.Cryptography.X509Certificates.X509Certificate2 authority, string id,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, TransportMode transport, bool listen = true) =>
        Client.ConnectAsync(new ClientConfig(id, "localhost")
        {
            CoordinatorEndPoint = endPoint,
            CoordinatorAuthority = authority,
            TrustSystemRoots = false,
            Certificate = certificate,
            Transport = transport,
            Listen = listen,
        });

    internal static async Task<(OutStream Send, InStream Receive)> OpenProxiedAsync(Client sender, Client receiver)
    {
        var (send, _) = await sender.NewProxiedStreamAsync(receiver.Id);
        await using var incoming = receiver.IncomingStreams.GetAsyncEnumerator();
        await incoming.MoveNextAsync();
        return (send, incoming.Current.Receive);
    }

    internal static async Task<(OutStream Send, InStream Receive)> OpenDirectAsync(ConecPairs pairs)
    {
        var (client, server) = await pairs.OpenRawAsync();
        return (new OutStream(client, BulkMessage), new InStream(server, BulkMessage));
    }

    /// <summary>Messages (or MB) per second from one sender to one reader over a fresh stream.</summary>
    internal static async Task<double> MessagesAsync(Func<Task<(OutStream Send, InStream Receive)>> open, int size, int count, bool megabytes)
    {
        var (send, receive) = await open();
        var payload = new byte[size];
        var clock = Stopwatch.StartNew();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await send.SendAsync(payload);
            }

            await send.FinishAsync();
        });
        var received = 0;
        while (await receive.ReadSequenceAsync() is not null)
        {
            received++;
        }

        await sending;
        var seconds = clock.Elapsed.TotalSeconds;
        await receive.DisposeAsync();
        return received != count
            ? throw new InvalidOperationException($"{received} of {count} messages arrived.")
            : megabytes ? (double)count * size / seconds / 1e6 : count / seconds;
    }

    /// <summary>
    /// Connect times of <paramref name="count"/> clients, each with its own certificate, or with
    /// <paramref name="oneCertificate"/> all with one certificate that names every id: what a client reconnecting
    /// pays, as System.Net.Quic on Linux prepares each new certificate for msquic once per process (a PKCS#12 export
    /// and import, about 20 ms here) and then reuses it.
    /// </summary>
    internal static async Task<(double P50, double P99)> ConnectTimesAsync(IPEndPoint endPoint, BenchmarkCertificates certificates, int count, bool oneCertificate = false)
    {
        // Identities are made beforehand: a deployed client has its certificate already, and key generation is not connecting.
        var prefix = oneCertificate ? "reconnect" : "connect";
        var shared = oneCertificate ? BenchmarkCertificates.CreateForMany(Enumerable.Range(0, count).Select(i => $"{prefix}{i}")) : null;
        var identities = Enumerable.Range(0, count).Select(i => shared ?? ConecCertificates.CreateSelfSigned($"{prefix}{i}")).ToArray();
        if (shared is not null)
        {
            // One connection first, which prepares the certificate as the first connect of a reconnecting client did.
            await (await ConnectAsync(endPoint, certificates, $"{prefix}0", shared)).DisposeAsync();
        }

        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var client = await ConnectAsync(endPoint, certificates, $"{prefix}{(shared is null ? i : (i + 1) % count)}", identities[i]);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await client.DisposeAsync();
        }

        return TransportBenchmark.Percentiles(samples);
    }

    /// <summary>
    /// TCP connect plus the TLS 1.3 handshake with the same checks, and nothing else. Each handshake presents its own
    /// client certificate, as each Conec client does: with one shared certificate the TLS library resumes sessions
    /// and skips most of the handshake, which no client connecting for the first time gets.
    /// </summary>
    private static async Task<(double P50, double P99)> TlsHandshakeTimesAsync(BenchmarkCertificates certificates, int count)
    {
        var identities = Enumerable.Range(0, count).Select(i => ConecCertificates.CreateSelfSigned($"tls{i}")).ToArray();
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var client = new TransportClientTls("localhost", identities[i]) { TrustedAuthorities = [certificates.ServerCertificate], TrustSystemRoots = false };
            var (clientSsl, serverSsl) = await StreamPairs.TlsPairAsync(certificates, client);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await clientSsl.DisposeAsync();
            await serverSsl.DisposeAsync();
        }

        return TransportBenchmark.Percentiles(samples);
    }

    /// <summary>
    /// Growth per idle peer of a server process's live managed heap and of its resident private bytes outside the GC heap
    /// (TLS library state, socket buffers), with <paramref name="count"/> peers connected. Memory the GC keeps
    /// committed beyond the live heap is the collector's slack, not a per-peer cost.
    /// </summary>
    private static async Task<(double Managed, double Native)> IdleMemoryAsync(
        string mode, BenchmarkCertificates certificates, int count, Func<IPEndPoint, int, Task<IAsyncDisposable>> connect, TextWriter progress)
    {
        var directory = Directory.CreateTempSubdirectory("conec-bench-").FullName;
        var peers = new List<IAsyncDisposable>();
        try
        {
            var certificatePath = Path.Combine(directory, "server.pem");
            var keyPath = Path.Combine(directory, "server.key");
            ConecCertificates.Save(certificates.ServerCertificate, certificatePath, keyPath);
            await using var child = await CoordinatorProcess.StartAsync(mode, certificatePath, keyPath);
            var endPoint = new IPEndPoint(IPAddress.Loopback, child.Port);

            // One warm-up peer, so one-time costs (TLS library state, JIT) are in the baseline, not per peer.
            peers.Add(await connect(endPoint, -1));
            var (managedBefore, privateBefore, committedBefore) = await child.MeasureAsync();
            for (var i = 0; i < count; i++)
            {
                peers.Add(await connect(endPoint, i));
            }

            var (managedAfter, privateAfter, committedAfter) = await child.MeasureAsync();
            progress.WriteLine($"{mode}: live managed {managedBefore / 1024} -> {managedAfter / 1024} KiB, " +
                $"GC committed {committedBefore / 1024} -> {committedAfter / 1024} KiB, private {privateBefore / 1024} -> {privateAfter / 1024} KiB");
            var managed = (managedAfter - managedBefore) / 1024.0 / count;
            var native = ((privateAfter - committedAfter) - (privateBefore - committedBefore)) / 1024.0 / count;
            return (managed, native);
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A bare TLS connection; <paramref name="identity"/> gives it its own client certificate, as each Conec client has (no session resumption).</summary>
    internal static Task<IAsyncDisposable> ConnectTlsAsync(IPEndPoint endPoint, BenchmarkCertificates certificates, System.Security.Cryptography.X509Certificates.X509Certificate2? identity = null) =>
        ConnectTlsAsync(endPoint, identity is null
            ? certificates.ClientTls
            : new TransportClientTls("localhost", identity) { TrustedAuthorities = [certificates.ServerCertificate], TrustSystemRoots = false });

    /// <summary>A bare TLS connection with the client side <paramref name="tls"/>.</summary>
    internal static async Task<IAsyncDisposable> ConnectTlsAsync(IPEndPoint endPoint, TransportClientTls tls)
    {
        // A failed connection gives its descriptor back at once: the scale benchmark counts failures and goes on.
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var ssl = new System.Net.Security.SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        try
        {
            await ssl.AuthenticateAsClientAsync(TransportTls.ClientOptions(tls, new HandshakeFailure()));
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    /// <summary>The one-hop baselines and two clients of a local coordinator, as both proxied runs need them.</summary>
    private sealed class ProxiedRig(
        BenchmarkCertificates certificates, SslStreamPairs ssl, ConecPairs direct, Coord coord, Client sender, Client receiver) : IAsyncDisposable
    {
        public BenchmarkCertificates Certificates => certificates;

        public SslStreamPairs Ssl => ssl;

        public ConecPairs Direct => direct;

        public IPEndPoint EndPoint { get; } = new(IPAddress.Loopback, coord.LocalEndPoint.Port);

        public Client Sender => sender;

        public Client Receiver => receiver;

        public static async Task<ProxiedRig> StartAsync()
        {
            var certificates = new BenchmarkCertificates();
            var direct = await ConecPairs.StartAsync(certificates);
            var coord = await StartCoordAsync(certificates);
            var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
            var sender = await ConnectAsync(endPoint, certificates, "bench-a");
            var receiver = await ConnectAsync(endPoint, certificates, "bench-b");
            return new ProxiedRig(certificates, new SslStreamPairs(certificates), direct, coord, sender, receiver);
        }

        public async ValueTask DisposeAsync()
        {
            await receiver.DisposeAsync();
            await sender.DisposeAsync();
            await coord.DisposeAsync();
            await direct.DisposeAsync();
            await ssl.DisposeAsync();
        }
    }
}
