using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Broadcasts;

/// <summary>conec's broadcast tests (v0.2.0, conec-reference §7.1), with counts exact at once instead of after a sweep.</summary>
public sealed class BroadcastTests
{
    [Theory, TransportModes]
    public async Task BroadcastLoopback(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        await AssertNoChannelAsync(client1, "chan", ct);
        var (send, receive) = await client1.NewBroadcastAsync("chan", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(1, 1), await client1.GetBroadcastCountAsync("chan", ct));

        var payload = StreamIo.Pattern(1000, 4);
        await send.SendAsync(payload, ct);
        var tagged = new TaggedBroadcastInStream(receive);
        var message = await tagged.ReceiveAsync(ct);
        Assert.Equal("client1", message?.Sender);
        Assert.Equal(payload, message?.Payload.ToArray());
    }

    [Theory, TransportModes]
    public async Task ASenderCannotSpoofAnotherSenderOrALossNotice(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var alice = await cluster.ConnectAsync("alice");
        var mallory = await cluster.ConnectAsync("mallory");
        var ct = Timeouts.Token();
        var (_, hear) = await alice.NewBroadcastAsync("chan", cancellationToken: ct);
        var (say, _) = await mallory.NewBroadcastAsync("chan", cancellationToken: ct);

        // Payloads that end like a tag naming alice, and like a loss notice: the coordinator's own tag comes after them.
        var aliceTag = new byte[64 + "alice"u8.Length + BroadcastTag.TrailerSize];
        "alice"u8.CopyTo(aliceTag.AsSpan(64));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(aliceTag.AsSpan(aliceTag.Length - 4), 5);
        var lossNotice = BroadcastTag.LossNoticeFrame(1_000)[FrameLimits.HeaderSize..];
        await say.SendAsync(aliceTag, ct);
        await say.SendAsync(lossNotice, ct);

        var tagged = new TaggedBroadcastInStream(hear);
        foreach (var sent in new[] { aliceTag, lossNotice })
        {
            var message = await tagged.ReceiveAsync(ct);
            Assert.Equal(("mallory", 0L), (message?.Sender, message?.LostBefore));
            Assert.Equal(sent, message?.Payload.ToArray());
        }
    }

    [Theory, TransportModes]
    public async Task BroadcastBidi(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        await AssertNoChannelAsync(client1, "chan", ct);
        await AssertNoChannelAsync(client2, "chan", ct);
        var (send1, receive1) = await client1.NewBroadcastAsync("chan", cancellationToken: ct);
        var (send2, receive2) = await client2.NewBroadcastAsync("chan", cancellationToken: ct);
        var tagged1 = new TaggedBroadcastInStream(receive1);
        var tagless2 = new TaglessBroadcastInStream(receive2);
        Assert.Equal(new BroadcastCount(2, 2), await client1.GetBroadcastCountAsync("chan", ct));
        Assert.Equal(new BroadcastCount(2, 2), await client2.GetBroadcastCountAsync("chan", ct));

        await send1.SendAsync(new byte[] { 1 }, ct);
        Assert.Equal(("client1", (byte)1), Summary(await tagged1.ReceiveAsync(ct)));
        Assert.Equal(new byte[] { 1 }, (await tagless2.ReceiveAsync(ct))?.Payload.ToArray());
        await send2.SendAsync(new byte[] { 2 }, ct);
        Assert.Equal(("client2", (byte)2), Summary(await tagged1.ReceiveAsync(ct)));
        Assert.Equal(new byte[] { 2 }, (await tagless2.ReceiveAsync(ct))?.Payload.ToArray());
        Assert.Equal(1, cluster.Coord.BroadcastCount);

        // client2 leaves entirely: counted at once (conec kept its reader until the next message). client2 asks,
        // so its leave and its question share one connection and arrive in order.
        await send2.DisposeAsync();
        await tagless2.DisposeAsync();
        Assert.Equal(new BroadcastCount(1, 1), await client2.GetBroadcastCountAsync("chan", ct));
        Assert.Equal(1, cluster.Coord.BroadcastCount);
        await send1.SendAsync(new byte[] { 3 }, ct);
        Assert.Equal(("client1", (byte)3), Summary(await tagged1.ReceiveAsync(ct)));

        await send1.DisposeAsync();
        await tagged1.DisposeAsync();
        await WaitForBroadcastCountAsync(cluster, 0);
        await AssertNoChannelAsync(client1, "chan", ct);
    }

    [Theory, TransportModes]
    public async Task BroadcastCodec(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send1, receive1) = await client1.NewBroadcastAsync("chan", cancellationToken: ct);
        var writer1 = new MessagePackOutStream<Weather>(send1);
        var reader1 = new MessagePackInStream<Weather>(new TaglessBroadcastInStream(new NonblockingInStream(receive1, 16)));
        Assert.Equal(new BroadcastCount(1, 1), await client1.GetBroadcastCountAsync("chan", ct));
        var (send2, receive2) = await client2.NewBroadcastAsync("chan", cancellationToken: ct);
        var writer2 = new MessagePackOutStream<Weather>(send2);
        var reader2 = new TaggedDeserializer<Weather>(new TaggedBroadcastInStream(receive2));
        Assert.Equal(new BroadcastCount(2, 2), await client2.GetBroadcastCountAsync("chan", ct));

        await writer1.SendAsync(Weather.Rain, ct);
        Assert.Equal(Weather.Rain, (await reader1.ReceiveAsync(ct))?.Value);
        Assert.Equal(new TaggedValue<Weather>("client1", Weather.Rain, 0), await reader2.ReceiveAsync(ct));
        await writer2.SendAsync(Weather.Snow, ct);
        Assert.Equal(Weather.Snow, (await reader1.ReceiveAsync(ct))?.Value);
        Assert.Equal(new TaggedValue<Weather>("client2", Weather.Snow, 0), await reader2.ReceiveAsync(ct));
    }

    [Theory, TransportModes]
    public async Task BroadcastSenderClose(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send1, receive1) = await client1.NewBroadcastAsync("chan", cancellationToken: ct);
        var (send2, receive2) = await client2.NewBroadcastAsync("chan", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(2, 2), await client1.GetBroadcastCountAsync("chan", ct));
        await send1.SendAsync(new byte[] { 1 }, ct);
        await send2.SendAsync(new byte[] { 2 }, ct);

        // Both writers finish: every reader gets what was sent, in the same order for all, then the end.
        await send1.FinishAsync(ct);
        await send2.FinishAsync(ct);
        var seen = new List<List<byte>>();
        foreach (var receive in new[] { receive1, receive2 })
        {
            var payloads = new List<byte>();
            await foreach (var message in new TaglessBroadcastInStream(receive).WithCancellation(ct))
            {
                payloads.Add(message.Payload.Span[0]);
            }

            seen.Add(payloads);
        }

        Assert.Equal(seen[0], seen[1]);
        Assert.Equal(new byte[] { 1, 2 }, seen[0].Order().ToArray());

        await WaitForBroadcastCountAsync(cluster, 0);
        await AssertNoChannelAsync(client1, "chan", ct);
        await AssertNoChannelAsync(client2, "chan", ct);
    }

    [Theory, TransportModes]
    public async Task BroadcastReceiverClose(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send1, receive1) = await client1.NewBroadcastAsync("chan", cancellationToken: ct);
        var (send2, receive2) = await client2.NewBroadcastAsync("chan", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(2, 2), await client2.GetBroadcastCountAsync("chan", ct));

        await receive1.DisposeAsync();
        Assert.Equal(new BroadcastCount(2, 1), await client1.GetBroadcastCountAsync("chan", ct));

        // The last reader leaves: nobody will read, so the channel ends at once and its writers are stopped.
        await receive2.DisposeAsync();
        await WaitForBroadcastCountAsync(cluster, 0);
        await AssertNoChannelAsync(client1, "chan", ct);
        foreach (var send in new[] { send1, send2 })
        {
            var stopped = await Assert.ThrowsAsync<ConecException>(() => send.Completion.WaitAsync(ct));
            Assert.Equal((ConecError.StreamStopped, ProtocolCodes.StreamBroadcastEnded), (stopped.Error, stopped.ApplicationErrorCode ?? -1));
        }
    }

    [Theory, TransportModes]
    public async Task CountsAreExactAfterEveryJoinAndLeave(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var a = await client1.NewBroadcastAsync("room", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(1, 1), await client2.GetBroadcastCountAsync("room", ct));
        var b = await client2.NewBroadcastAsync("room", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(2, 2), await client1.GetBroadcastCountAsync("room", ct));
        var c = await client2.NewBroadcastAsync("room", cancellationToken: ct);
        Assert.Equal(new BroadcastCount(3, 3), await client1.GetBroadcastCountAsync("room", ct));

        // Each leave is counted by the client that left: its leave and its question travel on one connection, in
        // order. (Between different clients there is no such order, so a count can only be exact as of its arrival.)
        await b.Receive.DisposeAsync();
        Assert.Equal(new BroadcastCount(3, 2), await client2.GetBroadcastCountAsync("room", ct));
        await b.Send.FinishAsync(ct);
        Assert.Equal(new BroadcastCount(2, 2), await client2.GetBroadcastCountAsync("room", ct));
        await a.Send.FinishAsync(ct);
        Assert.Equal(new BroadcastCount(1, 2), await client1.GetBroadcastCountAsync("room", ct));
        await c.Receive.DisposeAsync();
        Assert.Equal(new BroadcastCount(1, 1), await client2.GetBroadcastCountAsync("room", ct));
        Assert.Equal(1, cluster.Coord.BroadcastCount);
    }

    private static (string, byte) Summary(TaggedMessage? message) => (message!.Value.Sender, message.Value.Payload.Span[0]);

    internal static async Task AssertNoChannelAsync(Client client, string channel, CancellationToken ct)
    {
        var error = await Assert.ThrowsAsync<ConecException>(async () => await client.GetBroadcastCountAsync(channel, ct));
        Assert.Equal(ConecError.UnknownBroadcast, error.Error);
    }

    internal static async Task WaitForBroadcastCountAsync(Cluster cluster, int expected)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (cluster.Coord.BroadcastCount != expected)
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"{cluster.Coord.BroadcastCount} broadcasts, not {expected}, after 5 s.");
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }
    }
}
