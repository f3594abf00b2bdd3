using Conec.Protocol;
using Conec.Tests.Transport;

namespace Conec.Tests.Coordination;

/// <summary>What the coordinator's relay and the client/coordinator lifecycles promise beyond conec's own tests.</summary>
public sealed class RelayTests
{
    public static TheoryData<TransportMode> Modes => TransportPair.Modes;

    [Theory, MemberData(nameof(Modes))]
    public async Task BackPressureReachesTheSenderThroughTheRelay(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var (_, _, _, receive) = await Messages.NextAsync(client2.IncomingStreams, ct);

        // client2 reads nothing: sends must stall after what the windows on the path admit (a few MiB), not 2^20 messages.
        const int size = 16 * 1024;
        const int limit = 4096;
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = send.SendAsync(Messages.Numbered(sent, size), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            sent++;
            Assert.True(sent < limit, $"{limit} messages of {size} bytes were accepted without the receiver reading: no back-pressure.");
        }

        // Now read: the stalled send completes, and every message arrives once, in order.
        var reading = Task.Run(async () =>
        {
            var next = 0;
            await foreach (var message in receive.WithCancellation(ct))
            {
                Assert.Equal(next++, Messages.SequenceOf(message.Span));
            }

            return next;
        }, ct);
        await pending;
        await send.FinishAsync(ct);
        Assert.Equal(sent + 1, await reading);
        Assert.InRange(sent, 1, limit);
    }

    [Theory, MemberData(nameof(Modes))]
    public async Task TheCoordinatorsStreamBufferBoundsWhatARelayedStreamHoldsThere(TransportMode mode)
    {
        // 16 KiB instead of 1 MiB per stream towards the coordinator: what a non-reading receiver lets the sender
        // push is then its own 1 MiB window plus about 16 KiB held on the coordinator (about 66 messages of
        // 16 KiB plus the relay's one write in progress), where the default would admit about 130.
        await using var cluster = await Cluster.StartAsync(mode, config => (config.StreamBuffer, config.ClientBuffer) = (16 * 1024, 16 * 1024));
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var (_, _, _, receive) = await Messages.NextAsync(client2.IncomingStreams, ct);

        const int size = 16 * 1024;
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = send.SendAsync(Messages.Numbered(sent, size), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            sent++;
            Assert.True(sent <= 90, $"{sent} messages of {size} bytes were accepted: the coordinator holds more than its StreamBuffer.");
        }

        // A message 16 times the coordinator's buffer still crosses it whole once the receiver reads.
        var reading = Task.Run(async () =>
        {
            var next = 0;
            await foreach (var message in receive.WithCancellation(ct))
            {
                Assert.Equal(next++, Messages.SequenceOf(message.Span));
            }

            return next;
        }, ct);
        await pending;
        await send.SendAsync(Messages.Numbered(sent + 1, 256 * 1024), ct);
        await send.FinishAsync(ct);
        Assert.Equal(sent + 2, await reading);
        Assert.InRange(sent, 60, 90);
    }

    [Theory, MemberData(nameof(Modes))]
    public async Task AbortCodesCrossTheRelayBothWays(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send, receive) = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);

        // The sender resets: the receiver's read fails with the sender's code.
        send.Abort(77);
        var aborted = await Assert.ThrowsAsync<ConecException>(async () => await incoming.Receive.ReadAsync(ct));
        Assert.Equal((ConecError.StreamAborted, 77L), (aborted.Error, aborted.ApplicationErrorCode));

        // The receiver stops reading: the idle sender learns at once, with the receiver's code.
        receive.Abort(55);
        var stopped = await Assert.ThrowsAsync<ConecException>(() => incoming.Send.Completion.WaitAsync(ct));
        Assert.Equal((ConecError.StreamStopped, 55L), (stopped.Error, stopped.ApplicationErrorCode));
    }

    [Theory, MemberData(nameof(Modes))]
    public async Task APeerThatDisconnectsAbortsTheStreamInsteadOfEndingIt(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        await send.SendAsync(new byte[] { 1 }, ct);
        Assert.Equal(new byte[] { 1 }, await incoming.Receive.ReadAsync(ct));

        // conec finished the far side gracefully here, so a receiver could not tell a complete stream from a crash.
        await client1.DisposeAsync();
        var lost = await Assert.ThrowsAsync<ConecException>(async () => await incoming.Receive.ReadAsync(ct));
        Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamPeerLost), (lost.Error, lost.ApplicationErrorCode ?? -1));
        await cluster.WaitForClientCountAsync(1);
    }

    [Theory, MemberData(nameof(Modes))]
    public async Task AnUnknownPeerIsRefusedAndTheClientCarriesOn(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        var unknown = await Assert.ThrowsAsync<ConecException>(async () => await client.NewProxiedStreamAsync("nobody", ct));
        Assert.Equal(ConecError.UnknownPeer, unknown.Error);
        Assert.Contains("nobody", unknown.Message, StringComparison.Ordinal);

        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [9], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    [Theory, MemberData(nameof(Modes))]
    public async Task DisposingTheCoordinatorFailsEveryClientClearly(TransportMode mode)
    {
        var cluster = await Cluster.StartAsync(mode, c => c.MaxStreamsPerClient = 2);
        await using var _ = cluster;
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        // client1 holds its control stream and one open stream: a further open waits on the coordinator's stream limit.
        var (_, held) = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        var pendingOpen = client1.NewProxiedStreamAsync(null, ct).AsTask();
        var pendingRead = incoming.Receive.ReadAsync(ct).AsTask();
        Assert.False(await Timeouts.CompletesWithin(pendingOpen, TimeSpan.FromMilliseconds(200)), "The open should wait on the stream limit.");

        await cluster.Coord.DisposeAsync();

        foreach (var client in new[] { client1, client2 })
        {
            var ended = await Assert.ThrowsAsync<ConecException>(() => client.Completion.WaitAsync(ct));
            Assert.Equal(ConecError.ConnectionClosed, ended.Error);
            Assert.Contains("shut down", ended.Message, StringComparison.Ordinal);
        }

        Assert.Equal(ConecError.ConnectionClosed, (await Assert.ThrowsAsync<ConecException>(() => pendingOpen.WaitAsync(ct))).Error);
        await Assert.ThrowsAsync<ConecException>(() => pendingRead.WaitAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await held.ReadAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await Messages.NextAsync(client1.IncomingStreams, ct));
        await Assert.ThrowsAsync<ConecException>(async () => await client2.NewProxiedStreamAsync("client1", ct));
    }
}
