using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Benchmarks;

/// <summary>
/// `coord --cluster`: the proxied rows with both clients on one node of a two-node cluster against one client on
/// each node (through the link between them), connect time to a node against a coordinator without a cluster, and
/// the commands Redis runs per second at steady state with 10 and with many idle clients. All in this process, on
/// a private redis-server.
/// </summary>
internal static class ClusterBenchmark
{
    private const int BulkMessage = 64 * 1024;
    private const int SmallMessage = 64;
    private static readonly TimeSpan RedisWindow = TimeSpan.FromSeconds(10);

    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs, int idleClients)
    {
        var certificates = new BenchmarkCertificates();
        await using var redis = await BenchRedis.StartAsync();
        using var nodeAuthority = ConecCertificates.CreateAuthority("bench-nodes");
        await using var node0 = await StartNodeAsync(certificates, redis, nodeAuthority, "node0");
        await using var node1 = await StartNodeAsync(certificates, redis, nodeAuthority, "node1");
        await using var single = await CoordinationBenchmark.StartCoordAsync(certificates);
        var a = await CoordinationBenchmark.ConnectAsync(EndPoint(node0), certificates, "bench-a");
        var b = await CoordinationBenchmark.ConnectAsync(EndPoint(node0), certificates, "bench-b");
        var c = await CoordinationBenchmark.ConnectAsync(EndPoint(node1), certificates, "bench-c");
        try
        {
            var table = new PairedRatios();
            var bytes = scale.BulkBytes / 4;
            await table.AddAsync("proxied bulk, 64 KiB messages, across two nodes", () => Messages(a, c, BulkMessage, (int)(bytes / BulkMessage), megabytes: true),
                "both on one node", () => Messages(a, b, BulkMessage, (int)(bytes / BulkMessage), megabytes: true), pairs, ">= 0.6x");
            await table.AddAsync("proxied 64-byte messages, across two nodes", () => Messages(a, c, SmallMessage, scale.Messages / 2, megabytes: false),
                "both on one node", () => Messages(a, b, SmallMessage, scale.Messages / 2, megabytes: false), pairs, ">= 0.6x");
            await table.AddFiguresAsync(["proxied echo p50, across two nodes", "proxied echo p99, across two nodes"],
                () => Echo(a, c, scale.RoundTrips), "both on one node", () => Echo(a, b, scale.RoundTrips), pairs, ["", ""]);
            var connects = Math.Max(20, scale.RoundTrips / 25);
            await table.AddFiguresAsync(["client connect p50 to a node", "client connect p99 to a node"],
                () => Connects(EndPoint(node0), certificates, connects), "a coordinator without a cluster",
                () => Connects(new IPEndPoint(IPAddress.Loopback, single.LocalEndPoint.Port), certificates, connects), pairs, ["<= 1.3x", ""]);

            var fewIdle = await RedisCommandsPerSecondAsync(redis);
            await using (var idle = await IdleClientsAsync(certificates, [node0, node1], idleClients))
            {
                var manyIdle = await RedisCommandsPerSecondAsync(redis);
                table.Note(string.Create(CultureInfo.InvariantCulture,
                    $"Redis commands per second at steady state (INFO commandstats over {RedisWindow.TotalSeconds:0} s, two nodes): with 3 clients {fewIdle:F1}, with {idleClients + 3} idle clients {manyIdle:F1}."));
            }

            table.Note("Both nodes, their clients and redis-server share this machine's cores; 'across' crosses the link between the nodes (two relays and the link).");
            return table;
        }
        finally
        {
            foreach (var client in (Client[])[a, b, c])
            {
                await client.DisposeAsync();
            }
        }
    }

    private static async Task<Coord> StartNodeAsync(BenchmarkCertificates certificates, BenchRedis redis, X509Certificate2 authority, string nodeId) =>
        await Coord.StartAsync(new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = certificates.ServerCertificate,
            Transport = CoordinationBenchmark.Transport,
            Cluster = new ClusterConfig
            {
                Redis = redis.Configuration,
                NodeId = nodeId,
                LinkPort = 0,
                Certificate = ConecCertificates.CreateSigned(nodeId, authority),
                Authority = authority,
            }.UseRedisDirectory(),
        });

    private static IPEndPoint EndPoint(Coord coord) => new(IPAddress.Loopback, coord.LocalEndPoint.Port);

    private static Task<double> Messages(Client from, Client to, int size, int count, bool megabytes) =>
        CoordinationBenchmark.MessagesAsync(() => CoordinationBenchmark.OpenProxiedAsync(from, to), size, count, megabytes);

    private static async Task<double[]> Echo(Client from, Client to, int calls)
    {
        var pair = await from.NewProxiedStreamAsync(to.Id);
        await using var incoming = to.IncomingStreams.GetAsyncEnumerator();
        await incoming.MoveNextAsync();
        var serving = Task.Run(() => RawEcho.ServeAsync(incoming.Current.Send, incoming.Current.Receive));
        var figures = await EchoRuns.OneAtATimeAsync(payload => RawEcho.CallAsync(pair, payload), calls);
        await pair.Send.FinishAsync();
        await serving.WithinAsync(Deadline.Stop, "The echo's end");
        return figures;
    }

    private static async Task<double[]> Connects(IPEndPoint endPoint, BenchmarkCertificates certificates, int count)
    {
        var (p50, p99) = await CoordinationBenchmark.ConnectTimesAsync(endPoint, certificates, count);
        return [p50, p99];
    }

    /// <summary>Commands per second Redis runs while nothing happens but the nodes' leases and whatever idle clients cost.</summary>
    private static async Task<double> RedisCommandsPerSecondAsync(BenchRedis redis)
    {
        var before = await redis.CommandsExecutedAsync();
        var clock = Stopwatch.StartNew();
        await Task.Delay(RedisWindow); // a measurement window, not a wait for an event
        return (await redis.CommandsExecutedAsync() - before) / clock.Elapsed.TotalSeconds;
    }

    private static async Task<IdleClients> IdleClientsAsync(BenchmarkCertificates certificates, Coord[] nodes, int count)
    {
        var clients = new List<Client>();
        for (var i = 0; i < count; i++)
        {
            clients.Add(await CoordinationBenchmark.ConnectAsync(EndPoint(nodes[i % nodes.Length]), certificates, $"idle{i}"));
        }

        return new IdleClients(clients);
    }

    private sealed class IdleClients(List<Client> clients) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
