using Conec.Protocol;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Clustering;

/// <summary>Broadcasts span the nodes: every member everywhere gets every message once, stamped and in order; counts are the cluster's.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterBroadcastTests
{
    [Theory, TransportModes]
    public async Task ThirtyMembersOnThreeNodesGetEveryMessageOnceInEachSendersOrder(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 3);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        var members = new List<(string Id, StreamPair Pair)>();
        for (var i = 0; i < 30; i++)
        {
            var client = await nodes.ConnectAsync($"m{i}", i % 3);
            members.Add((client.Id, await client.NewBroadcastAsync("room", cancellationToken: ct)));
        }

        // Counts include every join at once, asked on any node.
        for (var node = 0; node < 3; node++)
        {
            Assert.Equal(new BroadcastCount(30, 30), await (await nodes.ConnectAsync($"asker{node}", node)).GetBroadcastCountAsync("room", ct));
        }

        var readers = members.Select(m => ReadAllAsync(m.Pair.Receive, ct)).ToArray();

        // Two senders on node0 (m0, m3) and one on node1 (m1), all at once.
        const int count = 1000;
        string[] senders = ["m0", "m3", "m1"];
        await Task.WhenAll(senders.Select(async id =>
        {
            var send = members.Single(m => m.Id == id).Pair.Send;
            for (var i = 0; i < count; i++)
            {
                await send.SendAsync(Messages.Numbered(i, 64), ct);
            }
        }));

        // Everyone stops writing: the channel ends on every node, and each reader reads its end.
        foreach (var (_, pair) in members)
        {
            await pair.Send.FinishAsync(ct);
        }

        var received = await Task.WhenAll(readers);
        var node0Order = received[0].Where(r => r.Sender is "m0" or "m3").ToList();
        for (var m = 0; m < members.Count; m++)
        {
            var got = received[m];
            Assert.Equal(3 * count, got.Count);
            Assert.All(got, r => Assert.Equal(0, r.LostBefore));
            foreach (var sender in senders)
            {
                Assert.Equal(Enumerable.Range(0, count), got.Where(r => r.Sender == sender).Select(r => r.Sequence));
            }

            // Messages of one node reach every member in the one order that node's fan-out gave them.
            Assert.Equal(node0Order, got.Where(r => r.Sender is "m0" or "m3").ToList());
        }
    }

    [Theory, TransportModes]
    public async Task CountsAreTheClustersAtOnceAfterJoinsOnOtherNodes(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 3);
        var ct = Timeouts.Token();
        var askers = new List<Client>();
        for (var node = 0; node < 3; node++)
        {
            askers.Add(await nodes.ConnectAsync($"asker{node}", node));
        }

        var unknown = await Assert.ThrowsAsync<ConecException>(async () => await askers[1].GetBroadcastCountAsync("room", ct));
        Assert.Equal(ConecError.UnknownBroadcast, unknown.Error);

        var aliceClient = await nodes.ConnectAsync("alice", 0);
        var alice = await aliceClient.NewBroadcastAsync("room", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(1, 1), await askers[1].GetBroadcastCountAsync("room", ct));
        Assert.Equal(new BroadcastCount(1, 1), await askers[2].GetBroadcastCountAsync("room", ct));
        var bob = await (await nodes.ConnectAsync("bob", 2)).NewBroadcastAsync("room", cancellationToken: ct);
        var coordMember = await nodes[1].NewBroadcastAsync("room", cancellationToken: ct);
        var carol = await (await nodes.ConnectAsync("carol", 1)).NewBroadcastAsync("room", cancellationToken: ct);
        for (var node = 0; node < 3; node++)
        {
            Assert.Equal(new BroadcastCount(4, 4), await askers[node].GetBroadcastCountAsync("room", ct));
            Assert.Equal(new BroadcastCount(4, 4), await nodes[node].GetBroadcastCountAsync("room", ct));
        }

        // The coordinator's view spans the cluster: the channel with its members on each node.
        var view = Assert.Single(await nodes[2].GetBroadcastsAsync(ct));
        Assert.Equal(("room", new BroadcastCount(4, 4)), (view.Name, view.Count));
        Assert.Equal(new Dictionary<string, int> { ["node0"] = 1, ["node1"] = 2, ["node2"] = 1 }, view.MembersByNode.OrderBy(p => p.Key).ToDictionary());

        // A member's own leave counts at once on its node; on the others as soon as its node has recorded it.
        await alice.Send.FinishAsync(ct);
        Assert.Equal(new BroadcastCount(3, 4), await aliceClient.GetBroadcastCountAsync("room", ct));
        await EventuallyAsync(askers[2], new BroadcastCount(3, 4), ct);
        await coordMember.Send.FinishAsync(ct);
        await coordMember.Receive.DisposeAsync();
        await EventuallyAsync(askers[0], new BroadcastCount(2, 3), ct);

        // A node that leaves takes its part (carol) with it; bob still writes, so the channel lives on.
        await nodes.StopNodeAsync(1);
        await EventuallyAsync(askers[0], new BroadcastCount(1, 2), ct);
        Assert.Equal(new BroadcastCount(1, 2), await askers[2].GetBroadcastCountAsync("room", ct));
        GC.KeepAlive(bob);
        GC.KeepAlive(carol);
    }

    [Theory, TransportModes]
    public async Task DropOldestAndDisconnectReceiversLoseOnlyTheirOwnAcrossNodes(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 3);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await nodes.ConnectAsync("sender", 0)).NewBroadcastAsync("room", cancellationToken: ct);
        var reader = await (await nodes.ConnectAsync("reader", 2)).NewBroadcastAsync("room", cancellationToken: ct);
        var lossy = await (await nodes.ConnectAsync("lossy", 1)).NewBroadcastAsync(
            "room", new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 8 }, ct);
        var cut = await (await nodes.ConnectAsync("cut", 1)).NewBroadcastAsync(
            "room", new BroadcastOptions { Policy = SlowReceiverPolicy.Disconnect, Capacity = 8 }, ct);
        var readers = new[] { ReadAllAsync(sender.Receive, ct), ReadAllAsync(reader.Receive, ct) };

        // lossy and cut read nothing while 3,000 messages go out: neither slows the sender or the others.
        const int count = 3000;
        for (var i = 0; i < count; i++)
        {
            await sender.Send.SendAsync(Messages.Numbered(i, 1024), ct);
        }

        var tooSlow = await Assert.ThrowsAsync<ConecException>(() => ReadAllAsync(cut.Receive, ct));
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamTooSlow), (tooSlow.Error, tooSlow.ApplicationErrorCode ?? -1));
        foreach (var pair in new[] { sender, reader, lossy, cut })
        {
            await pair.Send.FinishAsync(ct);
        }

        foreach (var received in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range(0, count), received.Select(r => r.Sequence));
        }

        // The lossy receiver got the newest messages, and each loss notice says exactly how many went before.
        var late = await ReadAllAsync(lossy.Receive, ct);
        AssertExactLosses(late, count);
        Assert.True(late.Count < count, "The lossy receiver lost nothing; it should have fallen behind.");
    }

    [Theory, TransportModes]
    public async Task AWaitingReceiverOnAnotherNodeSlowsTheSenderWhileOthersReceiveWhatWasSent(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 3);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await nodes.ConnectAsync("sender", 0)).NewBroadcastAsync("room", cancellationToken: ct);
        var slow = await (await nodes.ConnectAsync("slow", 1)).NewBroadcastAsync("room", cancellationToken: ct);
        var lossy = await (await nodes.ConnectAsync("lossy", 2)).NewBroadcastAsync(
            "room", new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 64 }, ct);
        var readers = new[] { ReadAllAsync(sender.Receive, ct), ReadAllAsync(lossy.Receive, ct) };

        // Nobody reads "slow" on node1: the sender on node0 stalls once node1's queue, the link's and the windows are full.
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = sender.Send.SendAsync(Messages.Numbered(sent, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++sent < 8192, "A lossless receiver on another node that never reads did not throttle the sender.");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{mode}: the sender on node0 stalled after {sent} messages of 16 KiB.");

        // It reads: the stalled send goes through, and everyone has everything, the lossy receiver included (it kept up).
        var slowReading = ReadAllAsync(slow.Receive, ct);
        await pending.WaitAsync(ct);
        foreach (var pair in new[] { sender, slow, lossy })
        {
            await pair.Send.FinishAsync(ct);
        }

        var (echo, kept, waited) = (await readers[0], await readers[1], await slowReading);
        Assert.Equal(Enumerable.Range(0, sent + 1), echo.Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(0, sent + 1), waited.Select(r => r.Sequence));

        // The DropOldest receiver on node2 was never held up by node1: it may lose in a burst, but counts each loss exactly.
        AssertExactLosses(kept, sent + 1);
    }

    /// <summary>Every message is either received or counted in the loss notice just before the next one; the last one arrives.</summary>
    private static void AssertExactLosses(List<(string? Sender, int Sequence, long LostBefore)> received, int count)
    {
        Assert.Equal(count - 1, received[^1].Sequence);
        var expected = 0;
        foreach (var (_, sequence, lost) in received)
        {
            Assert.Equal(expected + lost, sequence);
            expected = sequence + 1;
        }
    }

    /// <summary>Polls a count (a leave on another node is recorded by its node without anyone waiting for it).</summary>
    private static async Task EventuallyAsync(Client asker, BroadcastCount expected, CancellationToken ct)
    {
        while (true)
        {
            var count = await asker.GetBroadcastCountAsync("room", ct);
            if (count == expected)
            {
                return;
            }

            await Task.Delay(20, ct);
        }
    }

    internal static async Task<List<(string? Sender, int Sequence, long LostBefore)>> ReadAllAsync(InStream receive, CancellationToken ct)
    {
        var received = new List<(string?, int, long)>();
        await foreach (var message in new TaggedBroadcastInStream(receive).WithCancellation(ct))
        {
            received.Add((message.Sender, Messages.SequenceOf(message.Payload.Span), message.LostBefore));
        }

        return received;
    }
}
