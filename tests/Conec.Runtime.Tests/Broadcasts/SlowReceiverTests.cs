using Conec.Protocol;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Broadcasts;

/// <summary>What each slow-receiver policy promises: who waits, who loses what (exactly), and who is cut off.</summary>
public sealed class SlowReceiverTests
{
    private const int Size = 1024;

    [Theory, TransportModes]
    public async Task AWaitingReceiverThrottlesSendersUntilItLeaves(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var reader = await (await cluster.ConnectAsync("reader")).NewBroadcastAsync("room", cancellationToken: ct);
        var slow = await (await cluster.ConnectAsync("slow")).NewBroadcastAsync("room", cancellationToken: ct);
        var readers = new[] { ReadAllAsync(sender.Receive, ct), ReadAllAsync(reader.Receive, ct) };

        // Nobody reads "slow": sends stall once its queue and the windows on its path are full.
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = sender.Send.SendAsync(Messages.Numbered(sent, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++sent < 4096, "A lossless receiver that never reads did not throttle the sender.");
        }

        // It leaves: the stalled send goes through at once and the others get everything, in order.
        await slow.Receive.DisposeAsync();
        await pending.WaitAsync(ct);
        await sender.Send.FinishAsync(ct);
        await reader.Send.FinishAsync(ct);
        await slow.Send.FinishAsync(ct);
        foreach (var received in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range(0, sent + 1), received.Select(r => r.Sequence));
        }
    }

    [Theory, TransportModes]
    public async Task AWaitingReceiverOfLargeMessagesHoldsAFewMegabytesNotItsWholeQueue(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var slow = await (await cluster.ConnectAsync("slow")).NewBroadcastAsync("room", cancellationToken: ct);
        var echo = ReadAllAsync(sender.Receive, ct);

        // 1 MiB messages to a receiver that never reads: the queue's 256 messages would be 256 MiB on the coordinator,
        // but its byte bound (4 MiB) and the fan-in's (1 MiB) stall the sender after a handful, beyond the windows.
        const int Large = 1024 * 1024;
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = sender.Send.SendAsync(Messages.Numbered(sent, Large), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(500)))
            {
                break;
            }

            Assert.True(++sent <= 32, $"{sent} messages of 1 MiB went out to a receiver that never reads.");
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{mode}: the sender stalled after {sent} messages of 1 MiB.");

        // Still lossless: once the slow receiver reads, everything arrives, in order.
        var reading = ReadAllAsync(slow.Receive, ct);
        await pending.WaitAsync(ct);
        await sender.Send.FinishAsync(ct);
        await slow.Send.FinishAsync(ct);
        Assert.Equal(Enumerable.Range(0, sent + 1), (await reading).Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(0, sent + 1), (await echo).Select(r => r.Sequence));
    }

    [Theory, TransportModes]
    public async Task ADropOldestReceiverLosesAnExactCountAndSlowsNobody(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var others = new List<StreamPair>();
        for (var i = 0; i < 3; i++)
        {
            others.Add(await (await cluster.ConnectAsync($"reader{i}")).NewBroadcastAsync("room", cancellationToken: ct));
        }

        var lossy = await (await cluster.ConnectAsync("lossy")).NewBroadcastAsync(
            "room", new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 8 }, ct);
        var readers = others.Prepend(sender).Select(pair => ReadAllAsync(pair.Receive, ct)).ToArray();

        // Far more than the lossy receiver's queue and windows hold: every send still completes.
        const int count = 6000;
        for (var i = 0; i < count; i++)
        {
            await sender.Send.SendAsync(Messages.Numbered(i, Size), ct);
        }

        foreach (var pair in others.Append(sender).Append(lossy))
        {
            await pair.Send.FinishAsync(ct);
        }

        foreach (var received in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range(0, count), received.Select(r => r.Sequence));
            Assert.All(received, r => Assert.Equal(0, r.LostBefore));
        }

        // The lossy receiver reads late: what it got plus what it was told it lost is everything, each loss in place.
        var late = await ReadAllAsync(lossy.Receive, ct);
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
    public async Task TheDisconnectPolicyCutsOffOnlyTheSlowMember(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var observer = await cluster.ConnectAsync("observer");
        var sender = await (await cluster.ConnectAsync("sender")).NewBroadcastAsync("room", cancellationToken: ct);
        var reader = await (await cluster.ConnectAsync("reader")).NewBroadcastAsync("room", cancellationToken: ct);
        var slow = await (await cluster.ConnectAsync("slow")).NewBroadcastAsync(
            "room", new BroadcastOptions { Policy = SlowReceiverPolicy.Disconnect, Capacity = 8 }, ct);
        var readers = new[] { ReadAllAsync(sender.Receive, ct), ReadAllAsync(reader.Receive, ct) };
        Assert.Equal(new BroadcastCount(3, 3), await observer.GetBroadcastCountAsync("room", ct));

        const int count = 6000;
        for (var i = 0; i < count; i++)
        {
            await sender.Send.SendAsync(Messages.Numbered(i, Size), ct);
        }

        // The slow member was cut off with its own code; the writer it still holds counts, its reader does not.
        var cut = await Assert.ThrowsAsync<ConecException>(() => ReadAllAsync(slow.Receive, ct));
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamTooSlow), (cut.Error, cut.ApplicationErrorCode ?? -1));
        Assert.Equal(new BroadcastCount(3, 2), await observer.GetBroadcastCountAsync("room", ct));

        foreach (var pair in new[] { sender, reader, slow })
        {
            await pair.Send.FinishAsync(ct);
        }

        foreach (var received in await Task.WhenAll(readers))
        {
            Assert.Equal(Enumerable.Range(0, count), received.Select(r => r.Sequence));
        }
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
