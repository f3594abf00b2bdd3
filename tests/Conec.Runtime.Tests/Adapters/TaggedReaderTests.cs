using Conec.Tests.Coordination;

namespace Conec.Tests.Adapters;

/// <summary>The tagged broadcast reader costs little per message: a known sender's id is not decoded again, and a lent payload is not copied.</summary>
public sealed class TaggedReaderTests
{
    [Fact]
    public async Task ASendersIdIsOneStringAcrossItsMessagesAndLentPayloadsReadRight()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var alice = await cluster.ConnectAsync("alice");
        var bob = await cluster.ConnectAsync("bob");
        var ct = Timeouts.Token();
        var (aliceSends, _) = await alice.NewBroadcastAsync("room", cancellationToken: ct);
        var (bobSends, bobHears) = await bob.NewBroadcastAsync("room", cancellationToken: ct);
        await using var reader = new TaggedBroadcastInStream(bobHears);

        // Senders on different connections are not ordered among themselves: each sends only after the last arrived.
        var heard = new List<TaggedMessage>();
        foreach (var (sends, sequence) in new[] { (aliceSends, 0), (aliceSends, 1), (bobSends, 2), (aliceSends, 3) })
        {
            await sends.SendAsync(Messages.Numbered(sequence, 64), ct);
            heard.Add(await reader.ReceiveAsync(ct) ?? throw new InvalidOperationException("The broadcast ended."));
        }

        Assert.Equal(["alice", "alice", "bob", "alice"], heard.Select(m => m.Sender));
        Assert.Same(heard[0].Sender, heard[1].Sender);
        Assert.Same(heard[0].Sender, heard[3].Sender); // still known after another sender came between
        Assert.Equal([0, 1, 2, 3], heard.Select(m => Messages.SequenceOf(m.Payload.Span)));

        // A lent payload is the message as sent, valid until the next receive.
        await aliceSends.SendAsync(Messages.Numbered(4, 64), ct);
        var lent = await reader.ReceiveLeasedAsync(ct) ?? throw new InvalidOperationException("The broadcast ended.");
        Assert.Same(heard[0].Sender, lent.Sender);
        Assert.Equal(Messages.Numbered(4, 64), lent.Payload.ToArray());
    }

    [Fact]
    public async Task The_leased_enumeration_yields_every_message_in_order_with_each_loss_before_it()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var alice = await cluster.ConnectAsync("alice");
        var bob = await cluster.ConnectAsync("bob");
        var ct = Timeouts.Token();
        var (aliceSends, aliceHears) = await alice.NewBroadcastAsync("room", cancellationToken: ct);
        var (bobSends, bobHears) = await bob.NewBroadcastAsync("room", new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 4 }, ct);
        await bobSends.FinishAsync(ct);

        // Only once bob reads is alice's own copy let go: a broadcast with no reader left ends.
        await aliceHears.DisposeAsync();

        // More than bob's stream window while he reads nothing: the coordinator drops for him, and tells him.
        const int count = 200;
        for (var i = 0; i < count; i++)
        {
            await aliceSends.SendAsync(Messages.Numbered(i, 16 * 1024), ct);
        }

        await aliceSends.FinishAsync(ct);
        var previous = -1L;
        var lost = 0L;
        await using var reader = new TaggedBroadcastInStream(bobHears);
        await foreach (var message in reader.ReadAllLeasedAsync(ct))
        {
            var sequence = Messages.SequenceOf(message.Payload.Span);
            Assert.Equal("alice", message.Sender);
            Assert.Equal(previous + 1 + message.LostBefore, sequence);
            previous = sequence;
            lost += message.LostBefore;
        }

        Assert.True(previous >= 0, "nothing arrived");
        Assert.True(lost > 0, "nothing was dropped: the test did not overflow bob's queue");
    }
}
