using System.Diagnostics;
using System.Net;
using Conec.Tests.Coordination;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>
/// <see cref="TransportMode.Auto"/>, the default of both configurations: TCP at once where QUIC is missing, with the
/// reason logged; where QUIC exists, QUIC and TCP on one port number, and a client that races them ends up on QUIC.
/// </summary>
public sealed class AutoTransportTests
{
    private const int ListeningWithoutQuic = 1302;
    private const int ConnectingWithoutQuic = 1303;
    private const int RacingTcp = 1304;

    [Fact]
    public void Auto_is_the_default_of_both_configurations()
    {
        Assert.Equal(TransportMode.Auto, new CoordConfig().Transport);
        Assert.Equal(TransportMode.Auto, new ClientConfig("client1", "localhost").Transport);
    }

    [QuicMissingFact]
    public async Task Without_quic_an_auto_client_connects_over_tcp_at_once_and_logs_why()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Tcp);
        var ct = Timeouts.Token();

        // A first TCP connect pays for what every first TLS connect in a process costs, so the timed one below
        // measures only what Auto adds to it.
        await using (await TransportPair.ConnectAsync(TransportMode.Tcp, listener))
        {
            await using var warm = await listener.AcceptConnectionAsync(ct);
        }

        using var logs = new CapturingLoggerFactory();
        var clock = Stopwatch.StartNew();
        await using var connection = await TransportFactory.ConnectAsync(TransportMode.Auto, listener.LocalEndPoint, null,
            TransportPair.ClientTls(), new TransportSettings(), logs.CreateLogger("test"), ct);
        var elapsed = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"An Auto connect without QUIC took {elapsed.TotalMilliseconds:0.0} ms.");
        await using var accepted = await listener.AcceptConnectionAsync(ct);

        Assert.Equal(TransportMode.Tcp, connection.Mode);
        Assert.Equal(TransportMode.Tcp, accepted.Mode);

        // A client that gave QUIC its head start first would take at least that long.
        Assert.True(elapsed < TransportFactory.QuicHeadStart,
            $"An Auto connect without QUIC took {elapsed.TotalMilliseconds:0} ms, not less than QUIC's head start of {TransportFactory.QuicHeadStart.TotalMilliseconds:0} ms.");
        var entry = Assert.Single(logs.Entries, e => e.EventId == ConnectingWithoutQuic);
        Assert.Contains("libmsquic", entry.Message, StringComparison.Ordinal);
        Assert.Contains(listener.LocalEndPoint.ToString(), entry.Message, StringComparison.Ordinal);
    }

    [QuicMissingFact]
    public async Task Without_quic_an_auto_coordinator_listens_on_tcp_and_an_auto_client_joins_over_it()
    {
        using var coordLogs = new CapturingLoggerFactory();
        using var clientLogs = new CapturingLoggerFactory();
        await using var coord = await Coord.StartAsync(new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = TestCertificates.Server,
            LoggerFactory = coordLogs,
        }, Timeouts.Token());
        var listening = Assert.Single(coordLogs.Entries, e => e.EventId == ListeningWithoutQuic);
        Assert.Contains("libmsquic", listening.Message, StringComparison.Ordinal);
        Assert.Contains($":{coord.LocalEndPoint.Port} over TCP only", listening.Message, StringComparison.Ordinal);

        // A TCP-only client finds the coordinator on its port...
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        await using (var tcp = await Client.ConnectAsync(ClientConfig("tcp", endPoint, TransportMode.Tcp, null), Timeouts.Token()))
        {
            Assert.Equal(TransportMode.Tcp, tcp.Transport);
        }

        // ...and so does a client left at the default, which says why it did not try QUIC.
        var config = ClientConfig("auto", endPoint, null, clientLogs);
        await using var auto = await Client.ConnectAsync(config, Timeouts.Token());
        Assert.Equal(TransportMode.Tcp, auto.Transport);
        var connecting = Assert.Single(clientLogs.Entries, e => e.EventId == ConnectingWithoutQuic);
        Assert.Contains("libmsquic", connecting.Message, StringComparison.Ordinal);
    }

    [QuicFact]
    public async Task The_combined_listener_accepts_a_quic_and_a_tcp_client_on_one_port_number()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Auto);
        Assert.IsType<CombinedTransportListener>(listener);
        var ct = Timeouts.Token();

        var quicConnecting = TransportPair.ConnectAsync(TransportMode.Quic, listener);
        var tcpConnecting = TransportPair.ConnectAsync(TransportMode.Tcp, listener);
        await using var first = await listener.AcceptConnectionAsync(ct);
        await using var second = await listener.AcceptConnectionAsync(ct);
        await using var quic = await quicConnecting;
        await using var tcp = await tcpConnecting;
        Assert.Equal((TransportMode.Quic, TransportMode.Tcp), (quic.Mode, tcp.Mode));
        Assert.Equal(listener.LocalEndPoint.Port, quic.RemoteEndPoint.Port);
        Assert.Equal(listener.LocalEndPoint.Port, tcp.RemoteEndPoint.Port);

        var accepted = new[] { first, second }.ToDictionary(c => c.Mode);
        Assert.Equal([TransportMode.Quic, TransportMode.Tcp], accepted.Keys.Order());

        // Each accepted connection is the one its client dialled: a stream from each arrives on its own transport.
        foreach (var (client, text) in new[] { (quic, "over quic"), (tcp, "over tcp") })
        {
            var stream = await client.OpenStreamAsync(ct);
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), completeWrites: true, ct);
            var received = await StreamIo.ReadToEndAsync(await accepted[client.Mode].AcceptStreamAsync(ct), ct);
            Assert.Equal(text, System.Text.Encoding.UTF8.GetString(received));
        }
    }

    [QuicFact]
    public async Task An_auto_client_of_an_auto_coordinator_ends_up_on_quic()
    {
        using var clientLogs = new CapturingLoggerFactory();
        await using var coord = await Coord.StartAsync(new CoordConfig { Address = IPAddress.Loopback, Port = 0, Certificate = TestCertificates.Server },
            Timeouts.Token());
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);

        // QUIC's first connection with a certificate is its slowest (System.Net.Quic prepares the certificate for
        // msquic); one bare QUIC connection with the same certificate first keeps the race below about QUIC alone.
        await using (await TransportFactory.ConnectAsync(TransportMode.Quic, endPoint, null, TransportPair.ClientTls(), new TransportSettings(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, Timeouts.Token()))
        {
        }

        var config = ClientConfig("client1", endPoint, null, clientLogs);
        config.Certificate = TestCertificates.Client;
        await using var auto = await Client.ConnectAsync(config, Timeouts.Token());
        Assert.Equal(TransportMode.Quic, auto.Transport);
        Assert.DoesNotContain(clientLogs.Entries, e => e.EventId == ConnectingWithoutQuic);

        // The same port number serves TCP as well.
        await using var tcp = await Client.ConnectAsync(ClientConfig("tcp", endPoint, TransportMode.Tcp, null), Timeouts.Token());
        Assert.Equal(TransportMode.Tcp, tcp.Transport);
    }

    [QuicFact]
    public async Task An_auto_client_races_tcp_and_takes_it_when_only_tcp_listens()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Tcp);
        var ct = Timeouts.Token();
        using var logs = new CapturingLoggerFactory();

        // Nothing answers QUIC on this port: TCP joins after the head start at the latest, and wins.
        var clock = Stopwatch.StartNew();
        await using var connection = await TransportFactory.ConnectAsync(TransportMode.Auto, listener.LocalEndPoint, null,
            TransportPair.ClientTls(), new TransportSettings(), logs.CreateLogger("test"), ct);
        var elapsed = clock.Elapsed;
        await using var accepted = await listener.AcceptConnectionAsync(ct);

        Assert.Equal((TransportMode.Tcp, TransportMode.Tcp), (connection.Mode, accepted.Mode));
        Assert.Contains(logs.Entries, e => e.EventId == RacingTcp);
        Assert.True(elapsed < TransportFactory.QuicHeadStart + TimeSpan.FromSeconds(3),
            $"An Auto connect to a TCP-only listener took {elapsed.TotalMilliseconds:0} ms; TCP should join after QUIC's head start.");
    }

    private static ClientConfig ClientConfig(string id, IPEndPoint coordinator, TransportMode? transport, CapturingLoggerFactory? logs)
    {
        var config = new ClientConfig(id, "localhost")
        {
            CoordinatorEndPoint = coordinator,
            CoordinatorAuthority = TestCertificates.Server,
            TrustSystemRoots = false,
            LoggerFactory = logs,
        };
        if (transport is { } mode)
        {
            config.Transport = mode;
        }

        return config;
    }
}
