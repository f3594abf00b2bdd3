using System.Diagnostics;
using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// `channels --cluster`: broadcast fan-out with every member on one node against the same members spread over three
/// nodes of a cluster (a private redis-server), in one run. The sender is on node0 both times; spread, two thirds of
/// the receivers are across a link, so each message crosses two links once and fans out on three nodes.
/// </summary>
internal static class ClusterChannelsBenchmark
{
    private static readonly int[] ReceiverCounts = [10, 50];

    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, bool quick, TextWriter progress)
    {
        var program = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("channels --cluster needs redis-server on PATH (apt-get install redis-server).");
        var table = new RatioTable();
        var certificates = new BenchmarkCertificates();
        await using var redis = await BenchRedis.StartAsync(program);
        var authority = ConecCertificates.CreateAuthority("bench-nodes");
        var nodes = new List<Coord>();
        var clients = new List<Client>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await Coord.StartAsync(new CoordConfig
                {
                    Address = IPAddress.Loopback,
                    Port = 0,
                    Certificate = certificates.ServerCertificate,
                    Transport = CoordinationBenchmark.Transport,
                    Cluster = new ClusterConfig
                    {
                        Redis = redis.Configuration,
                        NodeId = $"node{i}",
                        LinkPort = 0,
                        Certificate = ConecCertificates.CreateSigned($"node{i}", authority),
                        Authority = authority,
                    }.UseRedisDirectory(),
                }));
            }

            IPEndPoint At(int node) => new(IPAddress.Loopback, nodes[node].LocalEndPoint.Port);
            var sender = await CoordinationBenchmark.ConnectAsync(At(0), certificates, "fan-sender");
            clients.Add(sender);
            var oneNode = new List<Client>();
            var spread = new List<Client>();
            for (var i = 0; i < ReceiverCounts.Max(); i++)
            {
                oneNode.Add(await CoordinationBenchmark.ConnectAsync(At(0), certificates, $"one-{i}"));
                spread.Add(await CoordinationBenchmark.ConnectAsync(At(i % 3), certificates, $"spread-{i}"));
            }

            clients.AddRange(oneNode);
            clients.AddRange(spread);
            foreach (var size in ChannelsBenchmark.Sizes)
            {
                foreach (var n in ReceiverCounts)
                {
                    var count = ChannelsBenchmark.FanOutCount(scale, size, n) / (quick ? 2 : 1);
                    progress.WriteLine($"cluster fan-out: {size} B to {n} receivers, one node and spread over three…");
                    var local = await TransportBenchmark.BestAsync(scale, () => ConecFanOut.RunAsync(FanOutReading.Tagged, sender, oneNode.Take(n).ToList(), size, count));
                    var across = await TransportBenchmark.BestAsync(scale, () => ConecFanOut.RunAsync(FanOutReading.Tagged, sender, spread.Take(n).ToList(), size, count));
                    table.Add($"broadcast {size} B to {n}, spread over 3 nodes", "msg/s", across, "all on one node", local, target: ">= 0.7x");
                }
            }

            table.Note("Both rows of a pair use the same three-node cluster; 'all on one node' has sender and receivers on node0, so no link carries them.");
            return table;
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

    /// <summary>A private redis-server on a unix socket in a temp folder, stopped by its own process id.</summary>
    private sealed class BenchRedis(string directory, Process process) : IAsyncDisposable
    {
        public string Configuration => Path.Combine(directory, "redis.sock");

        public static async Task<BenchRedis> StartAsync(string program)
        {
            var directory = Directory.CreateTempSubdirectory("conec-bench-redis-").FullName;
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "--port", "0", "--unixsocket", Path.Combine(directory, "redis.sock"), "--dir", directory, "--save", "", "--appendonly", "no" })
            {
                start.ArgumentList.Add(argument);
            }

            var redis = new BenchRedis(directory, Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start."));
            redis.Process.BeginOutputReadLine();
            redis.Process.BeginErrorReadLine();
            var waited = Stopwatch.StartNew();
            while (!File.Exists(redis.Configuration))
            {
                if (redis.Process.HasExited || waited.Elapsed > TimeSpan.FromSeconds(10))
                {
                    await redis.DisposeAsync();
                    throw new InvalidOperationException("redis-server did not open its socket within 10 s.");
                }

                await Task.Delay(10);
            }

            return redis;
        }

        private Process Process => process;

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }
}
