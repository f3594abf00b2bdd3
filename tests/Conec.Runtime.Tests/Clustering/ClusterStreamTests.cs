using System.Collections.Concurrent;
using System.Diagnostics;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Clustering;

/// <summary>Streams between clients of different nodes behave as between clients of one coordinator.</summary>
public sealed class ClusterStreamTests
{
    private static readonly ActivitySource TestSource = new("Conec.Tests.Clustering");

    [Theory, TransportModes]
    public async Task AProxiedStreamCrossesNodesWithItsIdsCodesAndTraceContext(TransportMode mode)
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Conec" or "Conec.Tests.Clustering",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var bob = await nodes.ConnectAsync("bob", 1);
        var ct = Timeouts.Token();
        using var root = TestSource.StartActivity("test");
        Assert.NotNull(root);

        // An explicit stream id arrives as chosen, with the opener's authenticated id and its trace.
        var pair = await alice.NewProxiedStreamAsync("bob", 42, ct);
        var incoming = await Messages.NextAsync(bob.IncomingStreams, ct);
        Assert.Equal(("alice", 42UL, StreamKind.Proxied), (incoming.Peer, incoming.StreamId, incoming.Kind));
        Assert.Equal(root.TraceId, incoming.TraceContext.TraceId);
        var echo = Messages.EchoAsync(incoming, ct);
        await Messages.AssertEchoAsync(pair, [1, 2, 3], ct);
        await pair.Send.FinishAsync(ct);
        Assert.Null(await pair.Receive.ReadAsync(ct));
        await echo;

        // Reset and stop codes cross both relays and the link, each way.
        var (send, receive) = await bob.NewProxiedStreamAsync("alice", ct);
        var far = await Messages.NextAsync(alice.IncomingStreams, ct);
        Assert.Equal("bob", far.Peer);
        send.Abort(77);
        var aborted = await Assert.ThrowsAsync<ConecException>(async () => await far.Receive.ReadAsync(ct));
        Assert.Equal((ConecError.StreamAborted, 77L), (aborted.Error, aborted.ApplicationErrorCode));
        receive.Abort(55);
        var stoppedSend = await Assert.ThrowsAsync<ConecException>(() => far.Send.Completion.WaitAsync(ct));
        Assert.Equal((ConecError.StreamStopped, 55L), (stoppedSend.Error, stoppedSend.ApplicationErrorCode));

        // An explicit id is still the opener's to use once, wherever the peer is.
        var reused = await Assert.ThrowsAsync<ConecException>(async () => await alice.NewProxiedStreamAsync("bob", 42, ct));
        Assert.Equal(ConecError.StreamIdInUse, reused.Error);
    }

    [Theory, TransportModes]
    public async Task AnUnknownPeerIsRefusedPromptlyAndAnIdIsUniqueAcrossNodes(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var alice = await nodes.ConnectAsync("alice", 0);
        var ct = Timeouts.Token();

        var clock = Stopwatch.StartNew();
        var unknown = await Assert.ThrowsAsync<ConecException>(async () => await alice.NewProxiedStreamAsync("nobody", ct));
        Assert.Equal(ConecError.UnknownPeer, unknown.Error);
        Assert.Contains("nobody", unknown.Message, StringComparison.Ordinal);
        var direct = await Assert.ThrowsAsync<ConecException>(() => alice.NewChannelAsync("nobody", ct));
        Assert.Equal(ConecError.UnknownPeer, direct.Error);
        var fromNode = await Assert.ThrowsAsync<ConecException>(async () => await nodes[1].NewStreamAsync("nobody", ct));
        Assert.Equal(ConecError.UnknownPeer, fromNode.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"Refusing unknown peers took {clock.Elapsed}.");

        // The same id on the other node is refused (case-insensitively, as DNS names are); the first client is untouched.
        var twin = await Assert.ThrowsAsync<ConecException>(() => nodes.ConnectAsync("ALICE", 1));
        Assert.Equal(ConecError.IdInUse, twin.Error);
        Assert.Contains("node0", twin.Message, StringComparison.Ordinal);
        Assert.False(alice.Completion.IsCompleted);
        var bob = await nodes.ConnectAsync("bob", 1);
        var pair = await bob.NewProxiedStreamAsync("alice", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(alice.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [7], ct);
        await pair.Send.FinishAsync(ct);
        await echo;

        // Once alice leaves, her id is free on either node at once.
        await alice.DisposeAsync();
        await using var again = await Client.ConnectAsync(nodes.ClientConfig("alice", 1), ct);
    }

    [Theory, TransportModes]
    public async Task ACoordinatorOpensStreamsToClientsOfOtherNodes(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var carol = await nodes.ConnectAsync("carol", 1);
        var ct = Timeouts.Token();

        // Automatic ids come from carol's own node, so streams from several nodes never share one.
        var first = await nodes[0].NewStreamAsync("carol", ct);
        var second = await nodes[1].NewStreamAsync("carol", ct);
        var arrived = new[] { await Messages.NextAsync(carol.IncomingStreams, ct), await Messages.NextAsync(carol.IncomingStreams, ct) };
        Assert.All(arrived, a => Assert.Equal((null, StreamKind.Coordinator), (a.Peer, a.Kind)));
        Assert.NotEqual(arrived[0].StreamId, arrived[1].StreamId);
        Assert.Equal(StreamKind.Coordinator, first.Kind);
        var echoes = arrived.Select(a => Messages.EchoAsync(a, ct)).ToArray();
        await Messages.AssertEchoAsync(first, [4], ct);
        await Messages.AssertEchoAsync(second, [5], ct);

        // An explicit id from another node reaches carol as chosen, and is refused when used again.
        var chosen = await nodes[0].NewStreamAsync("carol", 9, ct);
        var third = await Messages.NextAsync(carol.IncomingStreams, ct);
        Assert.Equal(9UL, third.StreamId);
        var reused = await Assert.ThrowsAsync<ConecException>(async () => await nodes[0].NewStreamAsync("carol", 9, ct));
        Assert.Equal(ConecError.StreamIdInUse, reused.Error);
        await chosen.Send.FinishAsync(ct);
        Assert.Null(await third.Receive.ReadAsync(ct));
        await first.Send.FinishAsync(ct);
        await second.Send.FinishAsync(ct);
        await Task.WhenAll(echoes);
    }

    [Theory, TransportModes]
    public async Task BackPressureReachesTheSenderThroughBothRelaysAndTheLink(TransportMode mode)
    {
        // Small buffers on the nodes keep what the path holds (and so the test) small.
        await using var nodes = await NodeSet.StartAsync(mode, 2, c => (c.StreamBuffer, c.ClientBuffer) = (16 * 1024, 16 * 1024));
        var alice = await nodes.ConnectAsync("alice", 0);
        var bob = await nodes.ConnectAsync("bob", 1);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send, _) = await alice.NewProxiedStreamAsync("bob", ct);
        var (_, _, _, receive) = await Messages.NextAsync(bob.IncomingStreams, ct);

        // bob reads nothing: sends stall after the windows on the path (bob's own 1 MiB, and three small ones).
        const int limit = 200;
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = send.SendAsync(Messages.Numbered(sent, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++sent <= limit, $"{sent} messages of 16 KiB were accepted while nobody read: no back-pressure across the nodes.");
        }

        var reading = Task.Run(async () =>
        {
            var next = 0;
            await foreach (var message in receive.WithCancellation(ct))
            {
                Assert.Equal(next++, Messages.SequenceOf(message.Span));
            }

            return next;
        }, ct);
        await pending.WaitAsync(ct);
        await send.FinishAsync(ct);
        Assert.Equal(sent + 1, await reading);
        Assert.InRange(sent, 1, limit);
    }

    [Theory, TransportModes]
    public async Task ThreeNodesCarryStreamsBetweenEveryPair(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 3);
        string[] ids = ["n0-client", "n1-client", "n2-client"];
        var clients = new Client[3];
        for (var i = 0; i < 3; i++)
        {
            clients[i] = await nodes.ConnectAsync(ids[i], i);
        }

        var ct = Timeouts.Token();
        var echoes = clients.Select(c => Task.Run(async () =>
        {
            var served = new List<Task>();
            await foreach (var incoming in c.IncomingStreams.WithCancellation(ct))
            {
                served.Add(Messages.EchoAsync(incoming, ct));
                if (served.Count == 2)
                {
                    break;
                }
            }

            await Task.WhenAll(served);
        }, ct)).ToArray();

        // Every client opens one stream to each other client, whichever node holds it: six streams over six links.
        var opened = new List<StreamPair>();
        for (var from = 0; from < 3; from++)
        {
            for (var to = 0; to < 3; to++)
            {
                if (from != to)
                {
                    var pair = await clients[from].NewProxiedStreamAsync(ids[to], ct);
                    await Messages.AssertEchoAsync(pair, [(byte)from, (byte)to], ct);
                    opened.Add(pair);
                }
            }
        }

        foreach (var pair in opened)
        {
            await pair.Send.FinishAsync(ct);
            Assert.Null(await pair.Receive.ReadAsync(ct));
        }

        await Task.WhenAll(echoes).WaitAsync(ct);
    }
}
