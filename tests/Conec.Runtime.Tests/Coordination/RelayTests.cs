using Conec.Protocol;
using Conec.Tests.Transport;

namespace Conec.Tests.Coordination;

/// <summary>What the coordinator's relay and the client/coordinator lifecycles promise beyond conec's own tests.</summary>
public sealed class RelayTests
{
    [Theory, TransportModes]
    public async Task BackPressureReachesTheSenderThroughTheRelay(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var (_, _, _, receive) = await Messages.NextAsync(client2.IncomingStreams, ct);

        // client2 reads nothing: sends must stall after what the windows on the path admit (a few MiB), not 2^20 messages.
        const int limit = 4096;
        var (sent, pending) = await SendUntilStalledAsync(send, 16 * 1024, limit, "no back-pressure", ct);

        // Now read: the stalled send completes, and every message arrives once, in order.
        var reading = ReadInOrderAsync(receive, ct);
        await pending.WaitAsync(ct);
        await send.FinishAsync(ct);
        Assert.Equal(sent + 1, await reading);
        Assert.InRange(sent, 1, limit);
    }

    [Theory, TransportModes]
    public async Task BothDirectionsOfARelayedStreamCarryBulkAtOnceIntactAndInOrder(TransportMode mode)
    {
        // Senders and readers run freely in both directions at once, so relayed bytes take the direct path past the
        // relay's pump whenever it is idle and the pump whenever it is not, both ways together (on TCP the two
        // reader loops then take the two streams' locks in opposite orders, which must not deadlock).
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var there = await client1.NewProxiedStreamAsync("client2", ct);
        var back = await Messages.NextAsync(client2.IncomingStreams, ct);

        const int count = 400;
        async Task SendAllAsync(OutStream send)
        {
            for (var i = 0; i < count; i++)
            {
                await send.SendAsync(Messages.Numbered(i, 1 + i * 7919 % (48 * 1024)), ct);
            }

            await send.FinishAsync(ct);
        }

        var sending = Task.WhenAll(Task.Run(() => SendAllAsync(there.Send), ct), Task.Run(() => SendAllAsync(back.Send), ct));
        var received = await Task.WhenAll(ReadInOrderAsync(back.Receive, ct), ReadInOrderAsync(there.Receive, ct));
        await sending.WaitAsync(ct);
        Assert.Equal([count, count], received);
    }

    [Theory, TransportModes]
    public async Task TheCoordinatorsStreamBufferBoundsWhatARelayedStreamHoldsThere(TransportMode mode)
    {
        // 16 KiB instead of 1 MiB per stream towards the coordinator: what a non-reading receiver lets the sender
        // push is then mostly its own 1 MiB window. Measured: 64 messages of 16 KiB on TCP and 88-91 on QUIC (whose
        // stack buffers some sends itself), against 98-127 and 154-183 with the default buffers.
        var limit = mode == TransportMode.Tcp ? 80 : 120;
        await using var cluster = await Cluster.StartAsync(mode, config => (config.StreamBuffer, config.ClientBuffer) = (16 * 1024, 16 * 1024));
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send, _) = await client1.NewProxiedStreamAsync("client2", ct);
        var (_, _, _, receive) = await Messages.NextAsync(client2.IncomingStreams, ct);

        var (sent, pending) = await SendUntilStalledAsync(send, 16 * 1024, limit, "the coordinator holds more than its StreamBuffer", ct);

        // A message 16 times the coordinator's buffer still crosses it whole once the receiver reads.
        var reading = ReadInOrderAsync(receive, ct);
        await pending.WaitAsync(ct);
        await send.SendAsync(Messages.Numbered(sent + 1, 256 * 1024), ct);
        await send.FinishAsync(ct);
        Assert.Equal(sent + 2, await reading);
        Assert.InRange(sent, 50, limit);
    }

    /// <summary>
    /// Sends numbered messages to a receiver that does not read until one stays pending for 300 ms; fails if more
    /// than <paramref name="limit"/> are accepted. Returns how many were, and the stalled send.
    /// </summary>
    private static async Task<(int Sent, Task Pending)> SendUntilStalledAsync(OutStream send, int size, int limit, string failure, CancellationToken ct)
    {
        var sent = 0;
        while (true)
        {
            var pending = send.SendAsync(Messages.Numbered(sent, size), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                return (sent, pending);
            }

            sent++;
            Assert.True(sent <= limit, $"{sent} messages of {size} bytes were accepted without the receiver reading: {failure}.");
        }
    }

    /// <summary>Reads to the end, checking the sequence numbers run 0, 1, 2, …; returns how many arrived.</summary>
    private static Task<int> ReadInOrderAsync(InStream receive, CancellationToken ct) => Task.Run(async () =>
    {
        var next = 0;
        await foreach (var message in receive.WithCancellation(ct))
        {
            Assert.Equal(next++, Messages.SequenceOf(message.Span));
        }

        return next;
    }, ct);

    [Theory, TransportModes]
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

    [Theory, TransportModes]
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

    [Theory, TransportModes]
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

    [Theory, TransportModes]
    public async Task DisposingTheCoordinatorFailsEveryClientClearly(TransportMode mode)
    {
        var cluster = await Cluster.StartAsync(mode, c => c.MaxStreamsPerClient = 2);
        await using var _ = cluster;
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();

        // client1 holds the two streams its limit allows: a further open waits on the coordinator's stream limit.
        var (_, held) = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        var spare = await client1.NewProxiedStreamAsync("client2", ct);
        var spareIncoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        var taking = Messages.NextAsync(cluster.Coord.IncomingStreams, ct); // the coordinator serves streams opened to it
        var pendingOpen = client1.NewProxiedStreamAsync(null, ct).AsTask();
        var pendingRead = incoming.Receive.ReadAsync(ct).AsTask();
        Assert.False(await Timeouts.CompletesWithin(pendingOpen, TimeSpan.FromMilliseconds(200)), "The open should wait on the stream limit.");

        // Both ends finish the spare stream: the relay releases it, and the waiting open takes its place.
        await spare.Send.FinishAsync(ct);
        await spareIncoming.Send.FinishAsync(ct);
        Assert.Null(await spareIncoming.Receive.ReadAsync(ct));
        Assert.Null(await spare.Receive.ReadAsync(ct));
        var opened = await pendingOpen.WaitAsync(ct);
        await opened.Send.SendAsync(new byte[] { 7 }, ct);
        var atCoordinator = await taking.WaitAsync(ct);
        Assert.Equal("client1", atCoordinator.Peer);
        Assert.Equal([7], (await atCoordinator.Receive.ReadAsync(ct))?.ToArray());

        // The limit is reached again; this open is still waiting when the coordinator goes.
        var lastOpen = client1.NewProxiedStreamAsync(null, ct).AsTask();
        Assert.False(await Timeouts.CompletesWithin(lastOpen, TimeSpan.FromMilliseconds(200)), "The open should wait on the stream limit.");
        await cluster.Coord.DisposeAsync();

        foreach (var client in new[] { client1, client2 })
        {
            var ended = await Assert.ThrowsAsync<ConecException>(() => client.Completion.WaitAsync(ct));
            Assert.Equal(ConecError.ConnectionClosed, ended.Error);
            Assert.Contains("shut down", ended.Message, StringComparison.Ordinal);
        }

        Assert.Equal(ConecError.ConnectionClosed, (await Assert.ThrowsAsync<ConecException>(() => lastOpen.WaitAsync(ct))).Error);
        await Assert.ThrowsAsync<ConecException>(() => pendingRead.WaitAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await held.ReadAsync(ct));
        await Assert.ThrowsAsync<ConecException>(async () => await Messages.NextAsync(client1.IncomingStreams, ct));
        await Assert.ThrowsAsync<ConecException>(async () => await client2.NewProxiedStreamAsync("client1", ct));
    }

    [Theory, TransportModes]
    public async Task AClientOpensExactlyMaxStreamsPerClientAndTheNextOpensWhenOneEnds(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.MaxStreamsPerClient = 3);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var serving = ServeEchoesAsync(cluster.Coord, ct);

        // The control stream is not counted: three streams open, each answers, and the fourth waits for a slot.
        var open = new List<StreamPair>();
        for (var i = 0; i < 3; i++)
        {
            open.Add(await client.NewProxiedStreamAsync(null, ct));
            await Messages.AssertEchoAsync(open[i], [(byte)i], ct);
        }

        var fourth = client.NewProxiedStreamAsync(null, ct).AsTask();
        Assert.False(await Timeouts.CompletesWithin(fourth, TimeSpan.FromMilliseconds(200)), "The open past the limit should wait.");

        await open[0].Send.FinishAsync(ct);
        Assert.Null(await open[0].Receive.ReadAsync(ct)); // the echo finished too: the stream is over
        var opened = await fourth.WaitAsync(ct);
        await Messages.AssertEchoAsync(opened, [4], ct);
        GC.KeepAlive(serving);
    }

    [Theory, TransportModes]
    public async Task WithTheSmallestLimitABroadcastJoinAndACountStillComplete(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode, c => c.MaxStreamsPerClient = 1);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();

        // The count's stream opens and is answered (there is no such channel yet), then the join takes the slot.
        await Assert.ThrowsAsync<ConecException>(async () => await client.GetBroadcastCountAsync("room", ct));
        var (send, receive) = await client.NewBroadcastAsync("room", cancellationToken: ct);
        await send.SendAsync(new byte[] { 1 }, ct);
        Assert.NotNull(await receive.ReadAsync(ct));
    }

    private static async Task ServeEchoesAsync(Coord coord, CancellationToken cancellationToken)
    {
        var echoes = new List<Task>();
        await foreach (var stream in coord.IncomingStreams.WithCancellation(cancellationToken))
        {
            echoes.Add(Messages.EchoAsync(stream, cancellationToken));
        }

        await Task.WhenAll(echoes);
    }
}
