using System.Diagnostics;
using System.Globalization;
using System.Net;
using Conec.Tests.Clustering;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Processes;

/// <summary>A node of a cluster killed with SIGKILL: its clients reconnect to another node with their ids.</summary>
public sealed class ClusterFailoverTests
{
    internal const double LeaseSeconds = 1.5;

    [Theory, TransportModes]
    public async Task ClientsOfAKilledNodeReconnectToAnotherWithTheirIds(TransportMode mode)
    {
        await using var redis = await RedisServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("conec-cluster-").FullName;
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        var authority = Path.Combine(directory, "nodes-ca.pem");
        ConecCertificates.Save(NodeSet.Authority, authority);
        await using var node0 = await StartNodeAsync(directory, mode, redis, "node0", authority, ct);
        await using var node1 = await StartNodeAsync(directory, mode, redis, "node1", authority, ct);

        // Every client starts on node0; the list it dials is read at each connect, so node1 joins it before the kill.
        var ids = Enumerable.Range(0, 4).Select(i => $"client{i}").ToArray();
        var clients = new List<Client>();
        var reconnected = ids.ToDictionary(id => id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            foreach (var id in ids)
            {
                var config = new ClientConfig(id, "localhost")
                {
                    CoordinatorAuthority = TestCertificates.Server,
                    TrustSystemRoots = false,
                    Transport = mode,
                    Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(400) },
                };
                config.CoordinatorEndPoints.Add(node0.EndPoint);
                var client = await Client.ConnectAsync(config, ct);
                clients.Add(client);
                client.Reconnected += (_, _) => reconnected[id].TrySetResult();
                config.CoordinatorEndPoints.Add(node1.EndPoint);
            }

            var watcher = await Client.ConnectAsync(new ClientConfig("watcher", "localhost")
            {
                CoordinatorEndPoint = node1.EndPoint,
                CoordinatorAuthority = TestCertificates.Server,
                TrustSystemRoots = false,
                Transport = mode,
            }, ct);
            clients.Add(watcher);

            // Across the link first: node1's watcher reaches a client of node0.
            await EchoThroughAsync(watcher, clients[0], ct);

            var clock = Stopwatch.StartNew();
            node0.Kill();
            await Task.WhenAll(reconnected.Values.Select(r => r.Task)).WaitAsync(ct);
            var failover = clock.Elapsed;
            TestContext.Current.TestOutputHelper?.WriteLine($"{ids.Length} clients of a killed node reconnected in {failover.TotalMilliseconds:0} ms (lease {LeaseSeconds} s).");

            // Each id was held by the dead node until its lease lapsed; none waited much beyond it.
            Assert.True(failover < TimeSpan.FromSeconds(LeaseSeconds + 10), $"Failover took {failover}.");
            foreach (var client in clients.Take(ids.Length))
            {
                Assert.Equal(node1.EndPoint.Port, client.CoordinatorEndPoint.Port);
                await EchoThroughAsync(watcher, client, ct);
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task EchoThroughAsync(Client from, Client to, CancellationToken ct)
    {
        var pair = await from.NewProxiedStreamAsync(to.Id, ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(to.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [1, 2, 3], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    internal static Task<CoordProcess> StartNodeAsync(string directory, TransportMode mode, RedisServer redis, string nodeId, string authority, CancellationToken ct)
    {
        var certificate = Path.Combine(directory, nodeId + ".pem");
        var key = Path.Combine(directory, nodeId + ".key");
        ConecCertificates.Save(NodeSet.NodeCertificate(nodeId), certificate, key);
        return CoordProcess.StartAsync(directory, mode, IPAddress.Loopback, 0, ct, null,
            "--cluster", redis.Configuration, "--node-id", nodeId, "--node-cert", certificate, "--node-key", key, "--node-ca", authority,
            "--link-port", "0", "--lease", LeaseSeconds.ToString(CultureInfo.InvariantCulture));
    }
}
