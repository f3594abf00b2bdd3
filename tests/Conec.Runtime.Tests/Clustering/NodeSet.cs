using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Tests.Clustering;

/// <summary>
/// Coordinators of one cluster (nodes <c>node0</c>, <c>node1</c>, …) on ephemeral loopback ports, sharing a
/// private Redis, and the clients a test connects to them; disposes them all. (The single-coordinator helper is
/// <see cref="Coordination.Cluster"/>.)
/// </summary>
internal sealed class NodeSet : IAsyncDisposable
{
    private static readonly Lazy<X509Certificate2> LazyAuthority = new(() => ConecCertificates.CreateAuthority("conec-nodes"));
    private static readonly ConcurrentDictionary<string, X509Certificate2> NodeCertificates = new();
    private readonly List<Client> _clients = [];
    private readonly Coord?[] _nodes;
    private readonly Action<CoordConfig>? _configure;
    private readonly bool _ownsRedis;

    private NodeSet(RedisServer redis, bool ownsRedis, TransportMode mode, int count, Action<CoordConfig>? configure)
    {
        Redis = redis;
        _ownsRedis = ownsRedis;
        Mode = mode;
        _nodes = new Coord?[count];
        _configure = configure;
    }

    /// <summary>The node CA every node's certificate is signed by.</summary>
    public static X509Certificate2 Authority => LazyAuthority.Value;

    public RedisServer Redis { get; }

    public TransportMode Mode { get; }

    /// <summary>Short leases keep failover tests quick; renewals every 400 ms are still far apart for Redis.</summary>
    public static TimeSpan Lease { get; } = TimeSpan.FromSeconds(1.2);

    public Coord this[int node] => _nodes[node] ?? throw new InvalidOperationException($"node{node} is not running.");

    /// <summary>Starts <paramref name="count"/> nodes on a new Redis (or skips where redis-server is missing).</summary>
    public static async Task<NodeSet> StartAsync(TransportMode mode, int count, Action<CoordConfig>? configure = null)
    {
        var set = new NodeSet(await RedisServer.StartAsync(), ownsRedis: true, mode, count, configure);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await set.StartNodeAsync(i);
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts <paramref name="count"/> nodes on a Redis the caller owns (and stops).</summary>
    public static async Task<NodeSet> StartAsync(TransportMode mode, int count, RedisServer redis)
    {
        var set = new NodeSet(redis, ownsRedis: false, mode, count, configure: null);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await set.StartNodeAsync(i);
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    public static X509Certificate2 NodeCertificate(string nodeId) =>
        NodeCertificates.GetOrAdd(nodeId, id => ConecCertificates.CreateSigned(id, Authority));

    public CoordConfig NodeConfig(int node)
    {
        var config = new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = TestCertificates.Server,
            Transport = Mode,
            Cluster = new ClusterConfig
            {
                Redis = Redis.Configuration,
                NodeId = $"node{node}",
                LinkPort = 0,
                Certificate = NodeCertificate($"node{node}"),
                Authority = Authority,
                LeaseTime = Lease,
            }.UseRedisDirectory(),
        };
        _configure?.Invoke(config);
        return config;
    }

    public async Task<Coord> StartNodeAsync(int node)
    {
        var coord = await Coord.StartAsync(NodeConfig(node), Timeouts.Token());
        _nodes[node] = coord;
        return coord;
    }

    /// <summary>Disposes a node (a clean exit) and forgets it.</summary>
    public async Task StopNodeAsync(int node)
    {
        await this[node].DisposeAsync();
        _nodes[node] = null;
    }

    public IPEndPoint EndPoint(int node) => new(IPAddress.Loopback, this[node].LocalEndPoint.Port);

    /// <summary>A client of <paramref name="node"/> alone.</summary>
    public ClientConfig ClientConfig(string id, int node) => new(id, "localhost")
    {
        CoordinatorEndPoint = EndPoint(node),
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = Mode,
    };

    /// <summary>A client that lists every running node and reconnects (quickly) when it loses its own.</summary>
    public ClientConfig ReconnectingClientConfig(string id)
    {
        var config = new ClientConfig(id, "localhost")
        {
            CoordinatorAuthority = TestCertificates.Server,
            TrustSystemRoots = false,
            Transport = Mode,
            Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(300) },
        };
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is not null)
            {
                config.CoordinatorEndPoints.Add(EndPoint(i));
            }
        }

        return config;
    }

    public Task<Client> ConnectAsync(string id, int node) => ConnectAsync(ClientConfig(id, node));

    public async Task<Client> ConnectAsync(ClientConfig config)
    {
        var client = await Client.ConnectAsync(config, Timeouts.Token());
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        if (_ownsRedis)
        {
            await Redis.DisposeAsync();
        }
    }
}
