using Conec.Protocol;
using Conec.Tests.Transport;

namespace Conec.Tests.Coordination;

/// <summary>conec's own tests (v0.2.0 and v0.0.11, conec-reference §7), asserting what each means, over every transport.</summary>
public sealed class ConecSuiteTests
{
    private static readonly ulong FirstStreamId = StreamIdAllocator.FirstAutomatic;

    [Theory, TransportModes]
    public async Task Simple(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        Assert.Equal(1, cluster.Coord.ClientCount);

        await client.DisposeAsync();
        var unregistered = await cluster.WaitForClientCountAsync(0);
        Assert.True(unregistered < TimeSpan.FromSeconds(1), $"Unregistering took {unregistered.TotalMilliseconds:0} ms.");
        await client.Completion.WaitAsync(Timeouts.Token());
    }

    [Theory, TransportModes]
    public async Task RepeatName(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var first = await cluster.ConnectAsync("client1");

        var refused = await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client1"));
        Assert.Equal(ConecError.IdInUse, refused.Error);
        Assert.Contains("in use", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, cluster.Coord.ClientCount);

        // The first client is untouched: it still opens and uses streams.
        var ct = Timeouts.Token();
        var pair = await first.NewProxiedStreamAsync("client1", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(first.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [1, 2, 3], ct);
        await pair.Send.FinishAsync(ct);
        await echo;

        await first.DisposeAsync();
        await cluster.WaitForClientCountAsync(0);
        var again = await cluster.ConnectAsync("client1");
        Assert.Equal(1, cluster.Coord.ClientCount);
        await again.DisposeAsync();
        await cluster.WaitForClientCountAsync(0);
    }

    [Theory, TransportModes]
    public async Task StreamUni(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var (peer, streamId, _, receive) = await Messages.NextAsync(client2.IncomingStreams, ct);
        Assert.Equal("client1", peer);
        Assert.Equal(FirstStreamId, streamId);

        var message = StreamIo.Pattern(1000, 7);
        await send.SendAsync(message, ct);
        Assert.Equal(message, await receive.ReadAsync(ct));

        var reused = await Assert.ThrowsAsync<ConecException>(async () => await client1.NewProxiedStreamAsync("client2", FirstStreamId, ct));
        Assert.Equal(ConecError.StreamIdInUse, reused.Error);
        await client1.NewProxiedStreamAsync("client2", 5, ct);
        var explicitReuse = await Assert.ThrowsAsync<ConecException>(async () => await client1.NewProxiedStreamAsync("client2", 5, ct));
        Assert.Equal(ConecError.StreamIdInUse, explicitReuse.Error);
    }

    [Theory, TransportModes]
    public async Task StreamBi(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var pair = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        Assert.Equal(StreamKind.Proxied, incoming.Kind);
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, StreamIo.Pattern(70_000, 3), ct);
        await pair.Send.FinishAsync(ct);
        await echo;
        Assert.Null(await pair.Receive.ReadAsync(ct));
    }

    [Theory, TransportModes]
    public async Task StreamBiMulti(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var ids = new HashSet<ulong>();
        for (var i = 0; i < 4; i++)
        {
            var pair = await client1.NewProxiedStreamAsync("client2", ct);
            var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
            Assert.Equal("client1", incoming.Peer);
            Assert.True(ids.Add(incoming.StreamId), "Each stream has its own id.");
            var echo = Messages.EchoAsync(incoming, ct);
            await Messages.AssertEchoAsync(pair, StreamIo.Pattern(100 + i, i), ct);
            await pair.Send.FinishAsync(ct);
            await echo;
        }
    }

    [Theory, TransportModes]
    public async Task StreamLoopback(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        var pair = await client1.NewProxiedStreamAsync("client1", ct);
        var incoming = await Messages.NextAsync(client1.IncomingStreams, ct);
        Assert.Equal("client1", incoming.Peer);
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, StreamIo.Pattern(5000, 9), ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    [Theory, TransportModes]
    public async Task ClientCert(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.ClientAuthority = TestCertificates.Authority);
        var client1Cert = ConecCertificates.CreateSigned("client1", TestCertificates.Authority);
        var client2Cert = ConecCertificates.CreateSigned("client2", TestCertificates.Authority);

        await cluster.ConnectAsync("client1", client1Cert);
        Assert.Equal(1, cluster.Coord.ClientCount);

        // A client calling itself client3 while presenting client2's certificate is refused.
        var impostor = await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client3", client2Cert));
        Assert.Equal(ConecError.IdentityRejected, impostor.Error);
        Assert.Equal(1, cluster.Coord.ClientCount);

        await cluster.ConnectAsync("client2", client2Cert);
        Assert.Equal(2, cluster.Coord.ClientCount);
    }

    [Theory, TransportModes]
    public async Task RejectClientCert(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.ClientAuthority = TestCertificates.Authority);

        // A self-signed certificate (the default identity) is refused in client-CA mode.
        var refused = await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client1"));
        Assert.Equal(ConecError.HandshakeFailed, refused.Error);
        Assert.Equal(0, cluster.Coord.ClientCount);
    }

    [Theory, TransportModes]
    public async Task Keepalive(TransportMode mode)
    {
        var idle = TimeSpan.FromMilliseconds(600);
        await using var cluster = await Cluster.StartAsync(mode, c => c.IdleTimeout = idle);
        var config = cluster.ClientConfig("client1");
        config.IdleTimeout = idle;
        var client = await cluster.ConnectAsync(config);

        // The behaviour under test is the passing of time: three idle timeouts with no traffic from the user.
        Assert.False(await Timeouts.CompletesWithin(client.Completion, idle * 3), "The client was dropped while keep-alive was on.");
        Assert.Equal(1, cluster.Coord.ClientCount);
        var ct = Timeouts.Token();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [42], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    [Theory, TransportModes]
    public async Task WithoutKeepaliveAnIdleClientIsDropped(TransportMode mode)
    {
        var idle = TimeSpan.FromMilliseconds(600);
        await using var cluster = await Cluster.StartAsync(mode, c => c.IdleTimeout = idle);
        var config = cluster.ClientConfig("client1", TestCertificates.Client);
        config.IdleTimeout = idle;
        config.KeepAlive = false;

        // Started before the client connects, so before the last packet either side received.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var client = await cluster.ConnectAsync(config);

        var lost = await Assert.ThrowsAsync<ConecException>(() => client.Completion.WaitAsync(Timeouts.Token()));
        Timeouts.AssertAfterTimeout(clock.Elapsed, idle, "The idle client was dropped");
        Assert.Equal(ConecError.ConnectionIdle, lost.Error);
        await cluster.WaitForClientCountAsync(0);
    }

    [Theory, TransportModes]
    public async Task StreamClientToCoord(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        // Unlike conec, the coordinator refuses streams to it while nothing reads them: start reading first.
        var taking = Messages.NextAsync(cluster.Coord.IncomingStreams, ct);
        var pair = await client.NewProxiedStreamAsync(null, ct);
        var incoming = await taking;
        Assert.Equal(("client1", FirstStreamId, StreamKind.Coordinator), (incoming.Peer, incoming.StreamId, incoming.Kind));
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, StreamIo.Pattern(300, 1), ct);
        await pair.Send.FinishAsync(ct);
        await echo;

        var reused = await Assert.ThrowsAsync<ConecException>(async () => await client.NewProxiedStreamAsync("client1", FirstStreamId, ct));
        Assert.Equal(ConecError.StreamIdInUse, reused.Error);
    }

    [Theory, TransportModes]
    public async Task StreamCoordToClient(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        var pair = await cluster.Coord.NewStreamAsync("client1", ct);
        var incoming = await Messages.NextAsync(client.IncomingStreams, ct);
        Assert.Equal((null, FirstStreamId, StreamKind.Coordinator), (incoming.Peer, incoming.StreamId, incoming.Kind));
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, StreamIo.Pattern(300, 2), ct);
        await pair.Send.FinishAsync(ct);
        await echo;

        var unknown = await Assert.ThrowsAsync<ConecException>(async () => await cluster.Coord.NewStreamAsync("client2", ct));
        Assert.Equal(ConecError.UnknownPeer, unknown.Error);
        var reused = await Assert.ThrowsAsync<ConecException>(async () => await cluster.Coord.NewStreamAsync("client1", FirstStreamId, ct));
        Assert.Equal(ConecError.StreamIdInUse, reused.Error);
    }
}
