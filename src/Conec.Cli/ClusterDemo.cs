using System.Diagnostics;
using System.Net;

namespace Conec.Cli;

/// <summary>
/// `conec demo --cluster`: a private Redis and three nodes in one process, six clients spread over them, a typed
/// broadcast chat across the nodes; then one node goes away, its clients reconnect to the others with their ids
/// and re-join, and the chat goes on. Needs redis-server on PATH.
/// </summary>
internal static class ClusterDemo
{
    private static readonly string[] Names = ["alice", "bob", "carol", "dave", "erin", "frank"];

    /// <summary>What the demo saw: lines alice heard, clients that moved and how long the slowest took.</summary>
    public sealed record Summary(int Nodes, int Clients, int LinesHeard, int Moved, TimeSpan Failover, BroadcastCount Lobby);

    /// <summary>Runs the demo; null (after one line saying how to install it) where redis-server is not on PATH.</summary>
    public static Task<Summary?> RunAsync(TextWriter output, CancellationToken cancellationToken) => RunAsync(output, LocalRedis.Locate(), cancellationToken);

    /// <summary>Runs the demo with <paramref name="program"/> as redis-server (null: it is missing).</summary>
    internal static async Task<Summary?> RunAsync(TextWriter output, string? program, CancellationToken cancellationToken)
    {
        if (program is null)
        {
            output.WriteLine("conec demo --cluster needs redis-server on PATH: apt-get install redis-server (Debian, Ubuntu), brew install redis (macOS).");
            return null;
        }

        output.WriteLine("Conec cluster demo: a private Redis, three nodes (node0, node1, node2) and six clients in this process, on loopback.");
        await using var redis = await LocalRedis.StartAsync(program, cancellationToken);
        var authority = ConecCertificates.CreateAuthority("conec-demo-nodes");
        var certificate = ConecCertificates.CreateSelfSigned("localhost");
        var nodes = new List<Coord>();
        var clients = new List<Client>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await Coord.StartAsync(NodeConfig($"node{i}", redis, certificate, authority), cancellationToken));
            }

            string NodeOf(Client client) => $"node{nodes.FindIndex(n => n.LocalEndPoint.Port == client.CoordinatorEndPoint.Port)}";

            // Each client starts on its own node, then lists them all: where it reconnects is read at each connect.
            var moved = new Dictionary<string, TaskCompletionSource<StreamPair>>();
            for (var i = 0; i < Names.Length; i++)
            {
                var config = new ClientConfig(Names[i], "localhost")
                {
                    CoordinatorAuthority = certificate,
                    TrustSystemRoots = false,
                    Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(400) },
                };
                config.CoordinatorEndPoints.Add(Loopback(nodes[i % 3]));
                var client = await Client.ConnectAsync(config, cancellationToken);
                clients.Add(client);
                foreach (var node in nodes.Where((_, n) => n != i % 3))
                {
                    config.CoordinatorEndPoints.Add(Loopback(node));
                }

                var rejoined = new TaskCompletionSource<StreamPair>(TaskCreationOptions.RunContinuationsAsynchronously);
                client.Reconnected += (_, e) => rejoined.TrySetResult(e.Broadcasts.Single(b => b.Channel == "lobby").Pair);
                moved[client.Id] = rejoined;
            }

            output.WriteLine("  " + string.Join(", ", clients.Select(c => $"{c.Id} on {NodeOf(c)}")));

            // A typed chat across nodes: each node stamps its own clients' lines; alice (node0) hears everyone.
            var lobby = new List<StreamPair>();
            foreach (var client in clients)
            {
                lobby.Add(await client.NewBroadcastAsync("lobby", cancellationToken: cancellationToken));
            }

            var hearing = new LobbyBroadcastReader(lobby[0].Receive);
            var heard = 0;
            async Task SayAndHearAsync(StreamPair pair, string text)
            {
                await new LobbySender(pair.Send).Say(new ChatLine(text));
                var (sender, line) = (await hearing.ReceiveAsync(cancellationToken))!.Value;
                heard++;
                output.WriteLine($"  [lobby] {sender}: {((LobbyMessage.Say)line).Line.Text}");
            }

            for (var i = 0; i < clients.Count; i++)
            {
                await SayAndHearAsync(lobby[i], $"hi, I am {clients[i].Id} on {NodeOf(clients[i])}");
            }

            var count = await clients[0].GetBroadcastCountAsync("lobby", cancellationToken);
            output.WriteLine($"  lobby: {count.Senders} senders and {count.Receivers} receivers across the cluster, asked on node0.");

            // node2 goes away: its clients lose their connection, reconnect to another node with their ids and re-join.
            var leaving = clients.Where(c => NodeOf(c) == "node2").ToList();
            output.WriteLine($"node2 stops: {string.Join(" and ", leaving.Select(c => c.Id))} lose their connection.");
            var clock = Stopwatch.StartNew();
            await nodes[2].DisposeAsync();
            var failover = TimeSpan.Zero;
            foreach (var client in leaving)
            {
                var pair = await moved[client.Id].Task.WaitAsync(cancellationToken);
                failover = clock.Elapsed;
                lobby[clients.IndexOf(client)] = pair;
                output.WriteLine($"  {client.Id} reconnected to {NodeOf(client)} after {failover.TotalMilliseconds:0} ms and re-joined the lobby.");
            }

            foreach (var client in leaving)
            {
                await SayAndHearAsync(lobby[clients.IndexOf(client)], $"back, now on {NodeOf(client)}");
            }

            await SayAndHearAsync(lobby[1], "welcome back");
            count = await clients[0].GetBroadcastCountAsync("lobby", cancellationToken);
            output.WriteLine($"Summary: 3 nodes, {clients.Count} clients; alice heard {heard} lines; {leaving.Count} clients moved off node2 within "
                + $"{failover.TotalMilliseconds:0} ms; the lobby has {count.Senders} senders and {count.Receivers} receivers on the two nodes left.");
            return new Summary(3, clients.Count, heard, leaving.Count, failover, count);
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
        }
    }

    private static CoordConfig NodeConfig(string nodeId, LocalRedis redis, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        System.Security.Cryptography.X509Certificates.X509Certificate2 authority) => new()
    {
        Address = IPAddress.Loopback,
        Port = 0,
        Certificate = certificate,
        Cluster = new ClusterConfig
        {
            Redis = redis.Configuration,
            NodeId = nodeId,
            LinkPort = 0,
            Certificate = ConecCertificates.CreateSigned(nodeId, authority),
            Authority = authority,
            LeaseTime = TimeSpan.FromSeconds(1.5),
        }.UseRedisDirectory(),
    };

    private static IPEndPoint Loopback(Coord node) => new(IPAddress.Loopback, node.LocalEndPoint.Port);
}
