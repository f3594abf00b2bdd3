using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Channels;

/// <summary>conec's direct-channel tests (v0.2.0, conec-reference §7.1), including the re-opens conec could not do.</summary>
public sealed class ChannelTests
{
    [Theory, TransportModes]
    public async Task NewStream(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var config3 = cluster.ClientConfig("client3");
        config3.Listen = false;
        var client3 = await cluster.ConnectAsync(config3);
        var ct = Timeouts.Token();

        for (var i = 0; i < 2; i++)
        {
            var pair = await client1.NewStreamAsync("client2", ct);
            var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
            Assert.Equal(("client1", StreamKind.Direct), (incoming.Peer, incoming.Kind));
            Assert.Equal(StreamKind.Direct, pair.Kind);
            await EchoOnceAsync(pair, incoming, ct);
        }

        var relayed = await client1.NewStreamAsync("client3", ct);
        var fromRelay = await Messages.NextAsync(client3.IncomingStreams, ct);
        Assert.Equal(("client1", StreamKind.Proxied), (fromRelay.Peer, fromRelay.Kind));
        Assert.Equal(StreamKind.Proxied, relayed.Kind);
        await EchoOnceAsync(relayed, fromRelay, ct);
    }

    [Theory, TransportModes]
    public async Task ChannelErrors(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        Assert.Equal(ConecError.NoChannel, (await Assert.ThrowsAsync<ConecException>(async () => await client1.NewDirectStreamAsync("client1", ct))).Error);
        Assert.Equal(ConecError.ChannelRefused, (await Assert.ThrowsAsync<ConecException>(() => client1.NewChannelAsync("client1", ct))).Error);
        Assert.Equal(ConecError.NoChannel, (await Assert.ThrowsAsync<ConecException>(() => client1.CloseChannelAsync("client2", ct))).Error);
        Assert.Equal(ConecError.UnknownPeer, (await Assert.ThrowsAsync<ConecException>(() => client1.NewChannelAsync("client2", ct))).Error);
    }

    [Theory, TransportModes]
    public async Task ChannelSimple(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        await Assert.ThrowsAsync<ConecException>(async () => await client1.NewDirectStreamAsync("client2", ct));
        await client1.NewChannelAsync("client2", ct);
        Assert.Equal(ConecError.ChannelExists, (await Assert.ThrowsAsync<ConecException>(() => client1.NewChannelAsync("client2", ct))).Error);
        Assert.Equal(ConecError.ChannelExists, (await Assert.ThrowsAsync<ConecException>(() => client2.NewChannelAsync("client1", ct))).Error);

        var pair = await client1.NewDirectStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        Assert.Equal(("client1", StreamKind.Direct), (incoming.Peer, incoming.Kind));
        await EchoOnceAsync(pair, incoming, ct);
    }

    [Theory, TransportModes]
    public async Task ChannelCloseAndReopenBothWays(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        await client1.NewChannelAsync("client2", ct);
        var (send, receive) = await client1.NewDirectStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        await client1.CloseChannelAsync("client2", ct);

        // The channel's streams fail on both sides.
        await Assert.ThrowsAsync<ConecException>(async () => await send.SendAsync(new byte[] { 1 }, ct));
        await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await incoming.Receive.ReadAsync(ct));

        // Both sides forgot it at once: re-opening works from either side, repeatedly (conec failed here).
        await client2.NewChannelAsync("client1", ct);
        await EchoOnceAsync(await client2.NewDirectStreamAsync("client1", ct), await Messages.NextAsync(client1.IncomingStreams, ct), ct);
        await client2.CloseChannelAsync("client1", ct);
        await client1.NewChannelAsync("client2", ct);
        await EchoOnceAsync(await client1.NewDirectStreamAsync("client2", ct), await Messages.NextAsync(client2.IncomingStreams, ct), ct);
        await client2.CloseChannelAsync("client1", ct);
        await client2.NewChannelAsync("client1", ct);
        await EchoOnceAsync(await client1.NewDirectStreamAsync("client2", ct), await Messages.NextAsync(client2.IncomingStreams, ct), ct);
    }

    [Theory, TransportModes]
    public async Task ChannelOneway(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var config1 = cluster.ClientConfig("client1");
        config1.Listen = false;
        var client1 = await cluster.ConnectAsync(config1);
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        Assert.Equal(ConecError.ChannelRefused, (await Assert.ThrowsAsync<ConecException>(() => client2.NewChannelAsync("client1", ct))).Error);
        await client1.NewChannelAsync("client2", ct);
        var pair = await client2.NewDirectStreamAsync("client1", ct);
        var incoming = await Messages.NextAsync(client1.IncomingStreams, ct);
        Assert.Equal(("client2", StreamKind.Direct), (incoming.Peer, incoming.Kind));
        await EchoOnceAsync(pair, incoming, ct);
    }

    [Theory, TransportModes]
    public async Task ClientCertChannel(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.ClientAuthority = TestCertificates.Authority);
        var cert1 = ConecCertificates.CreateSigned("client1", TestCertificates.Authority);
        var cert2 = ConecCertificates.CreateSigned("client2", TestCertificates.Authority);
        var cert3 = ConecCertificates.CreateSigned("client3", TestCertificates.Authority);
        var config1 = cluster.ClientConfig("client1", cert1);
        config1.ClientAuthority = TestCertificates.Authority;
        var config2 = cluster.ClientConfig("client2", cert2);
        config2.ClientAuthority = TestCertificates.Authority;
        var client1 = await cluster.ConnectAsync(config1);
        var client2 = await cluster.ConnectAsync(config2);
        await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client3", cert2));
        var client3 = await cluster.ConnectAsync("client3", cert3);
        var ct = Timeouts.Token();

        await Assert.ThrowsAsync<ConecException>(async () => await client1.NewDirectStreamAsync("client2", ct));
        await client1.NewChannelAsync("client2", ct);
        await Assert.ThrowsAsync<ConecException>(() => client1.NewChannelAsync("client2", ct));
        var (send, receive) = await client1.NewDirectStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        await send.SendAsync(new byte[] { 1 }, ct);
        Assert.Equal(new byte[] { 1 }, await incoming.Receive.ReadAsync(ct));
        await client1.CloseChannelAsync("client2", ct);
        await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await incoming.Receive.ReadAsync(ct));

        // client3 has a CA-signed certificate but no client CA configured: it can neither accept nor open channels with CA peers.
        await Assert.ThrowsAsync<ConecException>(() => client1.NewChannelAsync("client3", ct));
        await Assert.ThrowsAsync<ConecException>(() => client3.NewChannelAsync("client2", ct));
    }

    [Theory, TransportModes]
    public async Task AForgedSenderOnADirectStreamIsRefused(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();
        await client1.NewChannelAsync("client2", ct);

        // client1 speaks raw protocol on its channel and claims to be client3.
        var channel = await client1.DirectChannels.FindAsync("client2", ct);
        var forged = await channel!.Connection.OpenStreamAsync(ct);
        await forged.WriteAsync(SingleFrame.Encode(new StreamHeader(StreamHeaderKind.Direct, "client3", 1).Encode()), false, ct);
        var (_, error) = await StreamIo.ReadUntilEndOrErrorAsync(forged, ct);
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamHeaderRefused), (error?.Error, error?.ApplicationErrorCode ?? -1));

        // The channel carries on, and only the honest stream arrives.
        var pair = await client1.NewDirectStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        Assert.Equal("client1", incoming.Peer);
        await EchoOnceAsync(pair, incoming, ct);
    }

    private static async Task EchoOnceAsync(StreamPair pair, IncomingStream incoming, CancellationToken ct)
    {
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, StreamIo.Pattern(2000, 5), ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }
}
