using Conec.Protocol;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;
using Conec.Tests.Typed;

namespace Conec.Tests.Broadcasts;

/// <summary>The coordinator as a member of a broadcast: stamped as the coordinator, hearing everyone, under its own policy.</summary>
public sealed class CoordinatorBroadcastTests
{
    private const int Size = 1024;

    [Theory, TransportModes]
    public async Task TheCoordinatorsMessagesReachEveryMemberStampedAsTheCoordinatorAndItHearsEveryone(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var alice = await cluster.ConnectAsync("alice");
        var bob = await cluster.ConnectAsync("bob");
        var (coordSays, coordReceive) = await cluster.Coord.NewBroadcastAsync("room", cancellationToken: ct);
        var (aliceSays, aliceReceive) = await alice.NewBroadcastAsync("room", cancellationToken: ct);
        var (_, bobReceive) = await bob.NewBroadcastAsync("room", cancellationToken: ct);
        var coordHears = new TaggedBroadcastInStream(coordReceive);
        var aliceHears = new TaggedBroadcastInStream(aliceReceive);
        var bobHears = new TaggedBroadcastInStream(bobReceive);

        // The coordinator counts as a member, like any client.
        Assert.Equal(new BroadcastCount(3, 3), await bob.GetBroadcastCountAsync("room", ct));
        Assert.Equal(1, cluster.Coord.BroadcastCount);

        await coordSays.SendAsync(Messages.Numbered(1, Size), ct);
        foreach (var hears in new[] { coordHears, aliceHears, bobHears })
        {
            var message = await hears.ReceiveAsync(ct);
            Assert.Equal((TaggedMessage.CoordinatorSender, 1, true), (message?.Sender, Messages.SequenceOf(message!.Value.Payload.Span), message?.FromCoordinator));
        }

        await aliceSays.SendAsync(Messages.Numbered(2, Size), ct);
        foreach (var hears in new[] { coordHears, bobHears })
        {
            var fromAlice = await hears.ReceiveAsync(ct);
            Assert.Equal(("alice", 2, false), (fromAlice?.Sender, Messages.SequenceOf(fromAlice!.Value.Payload.Span), fromAlice?.FromCoordinator));
        }

        // A client's payload that ends like the coordinator's tag (an empty id) is still stamped with the client.
        var forged = new byte[] { 7, 0, 0, 0, 0 };
        await aliceSays.SendAsync(forged, ct);
        foreach (var hears in new[] { coordHears, bobHears })
        {
            var message = await hears.ReceiveAsync(ct);
            Assert.Equal("alice", message?.Sender);
            Assert.Equal(forged, message?.Payload.ToArray());
        }

        // The coordinator's leave happens in its own process, so it is counted at once; the channel lives on.
        await coordSays.FinishAsync(ct);
        await coordHears.DisposeAsync();
        Assert.Equal(new BroadcastCount(2, 2), await bob.GetBroadcastCountAsync("room", ct));
        Assert.Equal(1, cluster.Coord.BroadcastCount);
    }

    [Theory, TransportModes]
    public async Task TypedBroadcastReadersSeeTheCoordinatorAsASender(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var coord = await cluster.Coord.NewBroadcastAsync("room", cancellationToken: ct);
        var alice = await (await cluster.ConnectAsync("alice")).NewBroadcastAsync("room", cancellationToken: ct);
        var aliceHears = new ChatBroadcastReader(alice.Receive);
        var coordHears = new ChatBroadcastReader(coord.Receive);

        await new ChatSender(coord.Send).Say(new ChatLine("from the coordinator", 1));
        Assert.Equal((TaggedMessage.CoordinatorSender, (ChatMessage)new ChatMessage.Say(new ChatLine("from the coordinator", 1))), await aliceHears.ReceiveAsync(ct));
        Assert.Equal((TaggedMessage.CoordinatorSender, (ChatMessage)new ChatMessage.Say(new ChatLine("from the coordinator", 1))), await coordHears.ReceiveAsync(ct));

        await new ChatSender(alice.Send).Shout("hi", 2);
        Assert.Equal(("alice", (ChatMessage)new ChatMessage.Shout("hi", 2)), await coordHears.ReceiveAsync(ct));
    }

    [Theory, TransportModes]
    public async Task ACoordinatorThatReadsLateUnderDropOldestLosesAnExactCountAndSlowsNobody(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var coord = await cluster.Coord.NewBroadcastAsync("room", new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 8 }, ct);
        var echo = ReadAllAsync(sender.Receive, ct);

        // Far more than the coordinator's queue and its in-process window hold: every send still completes.
        const int count = 6000;
        for (var i = 0; i < count; i++)
        {
            await sender.Send.SendAsync(Messages.Numbered(i, Size), ct);
        }

        await sender.Send.FinishAsync(ct);
        await coord.Send.FinishAsync(ct);
        Assert.Equal(Enumerable.Range(0, count), (await echo).Select(r => r.Sequence));

        var late = await ReadAllAsync(coord.Receive, ct);
        Assert.True(late.Sum(r => r.LostBefore) > 0, "Nothing was dropped; the test did not fill the queue.");
        var expected = 0L;
        foreach (var (sequence, lostBefore) in late)
        {
            expected += lostBefore;
            Assert.Equal(expected, sequence);
            expected++;
        }

        Assert.Equal(count, expected);
    }

    [Theory, TransportModes]
    public async Task ACoordinatorUnderTheDisconnectPolicyIsCutOffAloneWhenItFallsBehind(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var coord = await cluster.Coord.NewBroadcastAsync("room", new BroadcastOptions { Policy = SlowReceiverPolicy.Disconnect, Capacity = 8 }, ct);
        var echo = ReadAllAsync(sender.Receive, ct);

        const int count = 6000;
        for (var i = 0; i < count; i++)
        {
            await sender.Send.SendAsync(Messages.Numbered(i, Size), ct);
        }

        var cut = await Assert.ThrowsAsync<ConecException>(() => ReadAllAsync(coord.Receive, ct));
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamTooSlow), (cut.Error, cut.ApplicationErrorCode ?? -1));
        await sender.Send.FinishAsync(ct);
        await coord.Send.FinishAsync(ct);
        Assert.Equal(Enumerable.Range(0, count), (await echo).Select(r => r.Sequence));
    }

    [Theory, TransportModes]
    public async Task ACoordinatorThatNeverReadsUnderWaitThrottlesSendersUntilItLeaves(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var coord = await cluster.Coord.NewBroadcastAsync("room", cancellationToken: ct);
        var echo = ReadAllAsync(sender.Receive, ct);

        var sent = 0;
        Task pending;
        while (true)
        {
            pending = sender.Send.SendAsync(Messages.Numbered(sent, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++sent < 4096, "A lossless coordinator that never reads did not throttle the sender.");
        }

        await coord.Receive.DisposeAsync();
        await pending.WaitAsync(ct);
        await sender.Send.FinishAsync(ct);
        await coord.Send.FinishAsync(ct);
        Assert.Equal(Enumerable.Range(0, sent + 1), (await echo).Select(r => r.Sequence));
    }

    [Theory, TransportModes]
    public async Task DisposingTheCoordinatorFailsItsOwnReaderRatherThanEndingIt(TransportMode mode)
    {
        var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var coord = await cluster.Coord.NewBroadcastAsync("room", cancellationToken: ct);
        await cluster.DisposeAsync();
        var failure = await Assert.ThrowsAsync<ConecException>(async () => await coord.Receive.ReadAsync(ct));
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamPeerLost), (failure.Error, failure.ApplicationErrorCode ?? -1));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await cluster.Coord.NewBroadcastAsync("room", cancellationToken: ct));
    }

    private static async Task<List<(int Sequence, long LostBefore)>> ReadAllAsync(InStream receive, CancellationToken ct)
    {
        var received = new List<(int, long)>();
        await foreach (var message in new TaglessBroadcastInStream(receive).WithCancellation(ct))
        {
            received.Add((Messages.SequenceOf(message.Payload.Span), message.LostBefore));
        }

        return received;
    }
}
