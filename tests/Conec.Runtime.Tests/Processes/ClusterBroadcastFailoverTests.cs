using Conec.Tests.Clustering;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Processes;

/// <summary>A node killed with SIGKILL in the middle of a broadcast: its members re-join elsewhere, nobody else misses anything.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterBroadcastFailoverTests
{
    [Theory, TransportModes]
    public async Task MembersOfAKilledNodeRejoinElsewhereAndOthersLoseNothing(TransportMode mode)
    {
        await using var redis = await RedisServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("conec-cluster-").FullName;
        var ct = Timeouts.Token(TimeSpan.FromSeconds(120));
        var authority = Path.Combine(directory, "nodes-ca.pem");
        ConecCertificates.Save(NodeSet.Authority, authority);
        var nodes = new List<CoordProcess>();
        var clients = new List<Client>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await ClusterFailoverTests.StartNodeAsync(directory, mode, redis, $"node{i}", authority, ct));
            }

            // Two members on node0 (which dies) list every node; the others stay where they are.
            var doomed = new List<(StreamPair Pair, Task<StreamPair> Rejoined)>();
            foreach (var id in new[] { "doomed0", "doomed1" })
            {
                var config = new ClientConfig(id, "localhost")
                {
                    CoordinatorAuthority = TestCertificates.Server,
                    TrustSystemRoots = false,
                    Transport = mode,
                    Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(400) },
                };
                config.CoordinatorEndPoints.Add(nodes[0].EndPoint);
                var client = await Client.ConnectAsync(config, ct);

                // The list is read at each connect: the other nodes join it once this client is on node0.
                config.CoordinatorEndPoints.Add(nodes[1].EndPoint);
                config.CoordinatorEndPoints.Add(nodes[2].EndPoint);
                clients.Add(client);
                var rejoined = new TaskCompletionSource<StreamPair>(TaskCreationOptions.RunContinuationsAsynchronously);
                client.Reconnected += (_, e) => rejoined.TrySetResult(e.Broadcasts.Single(b => b.Channel == "room").Pair);
                doomed.Add((await client.NewBroadcastAsync("room", cancellationToken: ct), rejoined.Task));
            }

            var steady = new List<StreamPair>();
            foreach (var (id, node) in new[] { ("sender", 1), ("near", 1), ("far0", 2), ("far1", 2) })
            {
                var client = await Client.ConnectAsync(Config(id, mode, nodes[node]), ct);
                clients.Add(client);
                steady.Add(await client.NewBroadcastAsync("room", cancellationToken: ct));
            }

            Assert.Equal(new BroadcastCount(6, 6), await clients[2].GetBroadcastCountAsync("room", ct));
            var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var steadyReaders = steady.Select(p => ClusterBroadcastTests.ReadAllAsync(p.Receive, ct)).ToArray();
            var doomedReaders = doomed.Select(d => ReadAcrossFailoverAsync(d.Pair, d.Rejoined, halfway, ct)).ToArray();

            // 1,000 messages, the kill once node0's members are half-way through them, then more until both re-joined.
            var send = steady[0].Send;
            var sent = 0;
            for (; sent < 1000; sent++)
            {
                await send.SendAsync(Messages.Numbered(sent, 64), ct);
            }

            await halfway.Task.WaitAsync(ct);
            nodes[0].Kill();
            var rejoinedBoth = Task.WhenAll(doomed.Select(d => d.Rejoined));
            while (!rejoinedBoth.IsCompleted)
            {
                await send.SendAsync(Messages.Numbered(sent++, 64), ct);
                await Task.WhenAny(rejoinedBoth, Task.Delay(2, ct));
            }

            var rejoinedPairs = await rejoinedBoth;
            Assert.Equal(new BroadcastCount(6, 6), await clients[2].GetBroadcastCountAsync("room", ct));
            for (var i = 0; i < 500; i++)
            {
                await send.SendAsync(Messages.Numbered(sent++, 64), ct);
            }

            foreach (var pair in steady.Concat(rejoinedPairs))
            {
                await pair.Send.FinishAsync(ct);
            }

            // Members on the surviving nodes got everything; node0's got a head, missed a tail, and got the rest after re-joining.
            foreach (var received in await Task.WhenAll(steadyReaders))
            {
                Assert.Equal(Enumerable.Range(0, sent), received.Select(r => r.Sequence));
            }

            foreach (var (before, after) in await Task.WhenAll(doomedReaders))
            {
                Assert.Equal(Enumerable.Range(0, before.Count), before);
                Assert.NotEmpty(after);
                Assert.True(after[0] >= before.Count, $"After re-joining, message {after[0]} came again (it had {before.Count}).");
                Assert.Equal(Enumerable.Range(after[0], sent - after[0]), after);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"{mode}: a member of the killed node missed messages {before.Count}..{after[0] - 1} of {sent}.");
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static ClientConfig Config(string id, TransportMode mode, CoordProcess node) => new(id, "localhost")
    {
        CoordinatorEndPoint = node.EndPoint,
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = mode,
    };

    /// <summary>Reads the first membership until its node dies, then the re-joined one to its end: the sequences of each.</summary>
    private static async Task<(List<int> Before, List<int> After)> ReadAcrossFailoverAsync(StreamPair first, Task<StreamPair> rejoined, TaskCompletionSource halfway,
        CancellationToken ct)
    {
        var before = new List<int>();
        try
        {
            await foreach (var message in new TaggedBroadcastInStream(first.Receive).WithCancellation(ct))
            {
                Assert.Equal(0, message.LostBefore);
                before.Add(Messages.SequenceOf(message.Payload.Span));
                if (before.Count == 500)
                {
                    halfway.TrySetResult();
                }
            }

            Assert.Fail("The membership on the killed node ended cleanly; it should have failed with its connection.");
        }
        catch (ConecException)
        {
            // The node died: the membership's stream fails with its connection.
        }

        var after = (await ClusterBroadcastTests.ReadAllAsync((await rejoined.WaitAsync(ct)).Receive, ct)).Select(r => r.Sequence).ToList();
        return (before, after);
    }
}
