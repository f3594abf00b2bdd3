using System.Diagnostics;
using Conec.Protocol;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;
using StackExchange.Redis;

namespace Conec.Tests.Clustering;

/// <summary>The faults table of docs/cluster.md: links breaking, Redis going away and coming back, nodes leaving, conflicts.</summary>
public sealed class ClusterFaultTests
{
    [Theory, TransportModes]
    public async Task ABrokenLinkFailsItsStreamsWithTheLinkCodeAndTheNextOpenDialsAgain(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var bob = await nodes.ConnectAsync("bob", 1);
        var ct = Timeouts.Token();
        var pair = await alice.NewProxiedStreamAsync("bob", ct);
        var incoming = await Messages.NextAsync(bob.IncomingStreams, ct);
        await pair.Send.SendAsync(new byte[] { 1 }, ct);
        Assert.Equal([1], await incoming.Receive.ReadAsync(ct));

        // node0 dialled the link that carries alice's stream; dropping it fails the stream at both ends, clearly.
        await nodes[0].Cluster!.BreakLinksAsync();
        foreach (var receive in new[] { pair.Receive, incoming.Receive })
        {
            var lost = await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
            Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamLinkLost), (lost.Error, lost.ApplicationErrorCode ?? -1));
        }

        // The clients stay connected; the next stream across dials a new link.
        var again = await alice.NewProxiedStreamAsync("bob", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(bob.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(again, [2], ct);
        await again.Send.FinishAsync(ct);
        await echo;
        Assert.False(alice.Completion.IsCompleted || bob.Completion.IsCompleted);
    }

    [Theory, TransportModes]
    public async Task WhileRedisIsDownStreamsGoOnAndHellosAreRefusedThenEveryNodeReassertsItsClaims(TransportMode mode)
    {
        var logs = new CapturingLoggerFactory();
        await using var nodes = await NodeSet.StartAsync(mode, 2, c => c.LoggerFactory = logs);
        var alice = await nodes.ConnectAsync("alice", 0);
        var bob = await nodes.ConnectAsync("bob", 1);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var pair = await alice.NewProxiedStreamAsync("bob", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(bob.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [1], ct);

        nodes.Redis.Stop();

        // Established clients and streams carry on, and a new stream between them finds bob where he was.
        await Messages.AssertEchoAsync(pair, [2], ct);
        var fresh = await alice.NewProxiedStreamAsync("bob", ct);
        var freshEcho = Messages.EchoAsync(await Messages.NextAsync(bob.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(fresh, [3], ct);

        // A new hello cannot be checked for uniqueness: refused promptly, saying why.
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ConecException>(() => nodes.ConnectAsync("carol", 1));
        Assert.Equal(ConecError.ClusterUnavailable, refused.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"The refusal took {clock.Elapsed}.");

        // Redis returns empty; both nodes re-assert their claims, so alice's id is again hers alone.
        var before = logs.Entries.Count(e => e.EventId == 2105);
        await nodes.Redis.RestartAsync();
        while (logs.Entries.Count(e => e.EventId == 2105) < before + 2)
        {
            Assert.True(clock.Elapsed < Timeouts.Operation, "The nodes did not re-assert their claims after Redis returned.");
            await Task.Delay(20, ct);
        }

        var twin = await Assert.ThrowsAsync<ConecException>(() => nodes.ConnectAsync("alice", 1));
        Assert.Equal(ConecError.IdInUse, twin.Error);
        await nodes.ConnectAsync("carol", 1);
        await Messages.AssertEchoAsync(pair, [4], ct);
        await pair.Send.FinishAsync(ct);
        await fresh.Send.FinishAsync(ct);
        await Task.WhenAll(echo, freshEcho);
        Assert.False(alice.Completion.IsCompleted);
    }

    [Theory, TransportModes]
    public async Task AConflictFoundWhenReassertingEndsWithOneOwnerAndALapsedClaimIsTakenOver(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var ct = Timeouts.Token();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(RedisOptions(nodes.Redis));
        var database = redis.GetDatabase();

        // A claim whose node has no lease any more (a crash long ago) is taken by the next hello.
        await database.StringSetAsync("{conec}:client:ghosted", "vanished|1|1");
        await nodes.ConnectAsync("ghosted", 1);
        Assert.StartsWith("node1|", (string?)await database.StringGetAsync("{conec}:client:ghosted"), StringComparison.Ordinal);

        // alice's claim now names node1, live (as after a partition): node0 finds it when it re-asserts, and closes
        // its own alice, so that one owner remains; the client learns why.
        var node1Epoch = (string?)await database.HashGetAsync("{conec}:node:node1", "epoch");
        await database.StringSetAsync("{conec}:client:alice", $"node1|{node1Epoch}|99");
        nodes[0].Cluster!.ReassertSoon();
        var closed = await Assert.ThrowsAsync<ConecException>(() => alice.Completion.WaitAsync(ct));
        Assert.Equal((ConecError.ConnectionClosed, ProtocolCodes.CloseIdInUse), (closed.Error, closed.ApplicationErrorCode ?? -1));
        Assert.Contains("another client holds this id", closed.Message, StringComparison.Ordinal);
        Assert.Equal($"node1|{node1Epoch}|99", (string?)await database.StringGetAsync("{conec}:client:alice"));
    }

    [Theory, TransportModes]
    public async Task ANodeThatExitsCleanlyReleasesItsClaimsAtOnceAndItsClientsReconnectElsewhere(TransportMode mode)
    {
        // A lease far longer than the test: only the release on exit lets alice take her id to the other node in time.
        await using var nodes = await NodeSet.StartAsync(mode, 2, c => c.Cluster!.LeaseTime = TimeSpan.FromMinutes(1));
        var alice = await nodes.ConnectAsync(nodes.ReconnectingClientConfig("alice"));
        var aliceNode = alice.CoordinatorEndPoint.Port == nodes.EndPoint(0).Port ? 0 : 1;
        var bob = await nodes.ConnectAsync("bob", 1 - aliceNode);
        var ct = Timeouts.Token();
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        alice.Reconnected += (_, _) => reconnected.TrySetResult();

        var clock = Stopwatch.StartNew();
        await nodes.StopNodeAsync(aliceNode);
        await reconnected.Task.WaitAsync(ct);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"alice took {clock.Elapsed} to reconnect.");
        Assert.Equal(nodes.EndPoint(1 - aliceNode).Port, alice.CoordinatorEndPoint.Port);

        // bob, on the node that stayed, reaches alice on it now.
        var pair = await bob.NewProxiedStreamAsync("alice", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(alice.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [5], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    private static ConfigurationOptions RedisOptions(RedisServer server)
    {
        var options = new ConfigurationOptions();
        options.EndPoints.Add(new System.Net.Sockets.UnixDomainSocketEndPoint(server.Configuration));
        return options;
    }
}
