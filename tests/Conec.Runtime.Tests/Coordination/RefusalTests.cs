using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Transport;
using Conec.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec.Tests.Coordination;

/// <summary>What a refused or stalled client learns, what the coordinator logs, and which refusals a reconnecting client retries.</summary>
public sealed class RefusalTests
{

    [Theory, TransportModes]
    public async Task ARefusedClientCertificateIsReportedWithTheCoordinatorsReason(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.ClientAuthority = TestCertificates.Authority);

        var refused = await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client1"));
        Assert.Equal(ConecError.HandshakeFailed, refused.Error);
        Assert.DoesNotContain("probably", refused.Message, StringComparison.Ordinal);
        if (mode == TransportMode.Tcp)
        {
            // The TCP transport carries the coordinator's own words; QUIC carries the TLS alert.
            Assert.Contains("client certificate was refused", refused.Message, StringComparison.Ordinal);
        }
    }

    [Theory, TransportModes]
    public async Task AStreamToACoordinatorThatNobodyServesIsRefusedAtOnce(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.IncomingStreamBacklog = 1);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        var unserved = await Assert.ThrowsAsync<ConecException>(async () => await client.NewProxiedStreamAsync(null, ct));
        Assert.Equal(ConecError.NotServed, unserved.Error);
        Assert.Contains("IncomingStreams", unserved.Message, StringComparison.Ordinal);

        // Once something reads, streams are taken; past the backlog of untaken ones, they are refused again.
        await using var streams = cluster.Coord.IncomingStreams.GetAsyncEnumerator(ct);
        var first = streams.MoveNextAsync().AsTask();
        await client.NewProxiedStreamAsync(null, ct);
        Assert.True(await first.WaitAsync(ct));
        await client.NewProxiedStreamAsync(null, ct); // waits in the backlog: nobody asked for the next one yet
        var full = await Assert.ThrowsAsync<ConecException>(async () => await client.NewProxiedStreamAsync(null, ct));
        Assert.Equal(ConecError.NotServed, full.Error);
        Assert.True(await streams.MoveNextAsync().AsTask().WaitAsync(ct));
    }

    [Fact]
    public async Task NewStreamAsyncRelaysAtOnceWhenTheDirectChannelDoesNotComeUp()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var ct = Timeouts.Token();

        // "client1" speaks raw: it advertises a listener that accepts and never answers, and ignores channel offers.
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        await using var silent = await TransportFactory.ConnectAsync(TransportMode.Tcp, cluster.EndPoint, null, TransportPair.ClientTls(), new TransportSettings(), NullLogger.Instance, ct);
        var control = await silent.OpenStreamAsync(ct);
        var listenPort = ((IPEndPoint)blackHole.LocalEndpoint).Port;
        await control.WriteAsync(SingleFrame.Encode(ControlMessage.Hello("client1", ProtocolConstants.Version, listenPort).Encode()), false, ct);
        await cluster.WaitForClientCountAsync(1);

        var config = cluster.ClientConfig("client2");
        config.DirectAttemptTimeout = TimeSpan.FromMilliseconds(300);
        var caller = await cluster.ConnectAsync(config);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pair = await caller.NewStreamAsync("client1", ct);
        Assert.Equal(StreamKind.Proxied, pair.Kind);
        Assert.True(clock.Elapsed < config.ConnectTimeout / 2, $"The fallback took {clock.Elapsed.TotalSeconds:0.0} s.");
        GC.KeepAlive(control);
    }

    [Fact]
    public async Task AHandshakeThatTimesOutIsLoggedAsATimeout()
    {
        using var log = new CapturingLoggerFactory();
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c =>
        {
            c.LoggerFactory = log;
            c.HelloTimeout = TimeSpan.FromMilliseconds(500);
        });
        var ct = Timeouts.Token();

        // TLS completes, then the peer never sends the multiplexer's SETTINGS.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(cluster.EndPoint, ct);
        await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsClientAsync(TransportTls.ClientOptions(TransportPair.ClientTls(), new HandshakeFailure()), ct);

        var logged = await log.WaitForAsync(1001).WaitAsync(ct);
        Assert.Contains("did not finish within 0.5 s", logged, StringComparison.Ordinal);
    }

    [Theory, TransportModes]
    public async Task AReconnectingClientEndsWithAPermanentRefusalInsteadOfRetrying(TransportMode mode)
    {
        var ct = Timeouts.Token();
        var first = await StartCoordAsync(mode, 0, null, ct);
        var port = first.LocalEndPoint.Port;
        await using var client = await Client.ConnectAsync(ReconnectingConfig(mode, port), ct);

        // The coordinator comes back in client-CA mode, where this client's self-signed identity never passes.
        await first.DisposeAsync();
        await using var second = await StartCoordAsync(mode, port, c => c.ClientAuthority = TestCertificates.Authority, ct);
        var ended = await Assert.ThrowsAsync<ConecException>(() => client.Completion.WaitAsync(ct));
        Assert.Equal(ConecError.HandshakeFailed, ended.Error);
        Assert.Equal(0, second.ClientCount);
    }

    [Theory, TransportModes]
    public async Task ABroadcastThatCannotBeRejoinedIsReportedWithItsRefusal(TransportMode mode)
    {
        var ct = Timeouts.Token();
        var first = await StartCoordAsync(mode, 0, null, ct);
        var port = first.LocalEndPoint.Port;
        await using var client = await Client.ConnectAsync(ReconnectingConfig(mode, port), ct);
        var reconnected = new TaskCompletionSource<ReconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += (_, e) => reconnected.TrySetResult(e);
        await client.NewBroadcastAsync("first", cancellationToken: ct);
        await client.NewBroadcastAsync("second", cancellationToken: ct);

        // The new coordinator allows one membership per client: one broadcast comes back, the other says why not.
        await first.DisposeAsync();
        await using var second = await StartCoordAsync(mode, port, c => c.MaxBroadcastMembershipsPerClient = 1, ct);
        var back = await reconnected.Task.WaitAsync(ct);
        Assert.Single(back.Broadcasts);
        var failed = Assert.Single(back.FailedBroadcasts);
        Assert.Equal(ConecError.LimitExceeded, failed.Error.Error);
        Assert.NotEqual(back.Broadcasts[0].Channel, failed.Channel);
    }

    private static ClientConfig ReconnectingConfig(TransportMode mode, int port) => new("client1", "localhost")
    {
        CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, port),
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = mode,
        Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
    };

    private static Task<Coord> StartCoordAsync(TransportMode mode, int port, Action<CoordConfig>? configure, CancellationToken ct)
    {
        var config = new CoordConfig { Address = IPAddress.Loopback, Port = port, Certificate = TestCertificates.Server, Transport = mode };
        configure?.Invoke(config);
        return Coord.StartAsync(config, ct);
    }
}
