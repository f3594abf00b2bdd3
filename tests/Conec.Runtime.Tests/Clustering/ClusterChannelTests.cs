using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Clustering;

/// <summary>Direct channels between clients of different nodes: brokered across the link, certificates still pinned.</summary>
public sealed class ClusterChannelTests
{
    [Theory, TransportModes]
    public async Task ADirectChannelIsBrokeredBetweenClientsOfDifferentNodes(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var bob = await nodes.ConnectAsync("bob", 1);
        var ct = Timeouts.Token();

        await alice.NewChannelAsync("bob", ct);
        var there = await alice.NewDirectStreamAsync("bob", ct);
        var arrived = await Messages.NextAsync(bob.IncomingStreams, ct);
        Assert.Equal(("alice", StreamKind.Direct), (arrived.Peer, arrived.Kind));
        var echo = Messages.EchoAsync(arrived, ct);
        await Messages.AssertEchoAsync(there, [1, 2], ct);
        await there.Send.FinishAsync(ct);
        await echo;

        // Either side opens direct streams on it, and NewStreamAsync takes the channel that exists.
        var back = await bob.NewStreamAsync("alice", ct);
        Assert.Equal(StreamKind.Direct, back.Kind);
        var atAlice = await Messages.NextAsync(alice.IncomingStreams, ct);
        Assert.Equal(("bob", StreamKind.Direct), (atAlice.Peer, atAlice.Kind));
        var twice = await Assert.ThrowsAsync<ConecException>(() => bob.NewChannelAsync("alice", ct));
        Assert.Equal(ConecError.ChannelExists, twice.Error);
    }

    [Theory, TransportModes]
    public async Task NewStreamAsyncFallsBackToARelayAcrossNodesWhenThePeerDoesNotListen(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var quiet = nodes.ClientConfig("quiet", 1);
        quiet.Listen = false;
        var peer = await nodes.ConnectAsync(quiet);
        var ct = Timeouts.Token();

        var refused = await Assert.ThrowsAsync<ConecException>(() => alice.NewChannelAsync("quiet", ct));
        Assert.Equal(ConecError.ChannelRefused, refused.Error);
        Assert.Contains("does not accept direct channels", refused.Message, StringComparison.Ordinal);

        var pair = await alice.NewStreamAsync("quiet", ct);
        Assert.Equal(StreamKind.Proxied, pair.Kind);
        var incoming = await Messages.NextAsync(peer.IncomingStreams, ct);
        Assert.Equal(("alice", StreamKind.Proxied), (incoming.Peer, incoming.Kind));
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, [3], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }
}
