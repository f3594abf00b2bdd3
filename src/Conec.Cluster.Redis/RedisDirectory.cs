using System.Globalization;
using Conec.Coordinator.Cluster;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Conec.Redis;

/// <summary>
/// The cluster directory on Redis (docs/cluster.md, "Redis keys"). Every change is one Lua script, so
/// uniqueness never depends on timing; leases expire by Redis's clock (PEXPIRE); departures travel over pub/sub.
/// Commands fail at once while Redis is unreachable (<see cref="BacklogPolicy.FailFast"/>): a hello should be
/// refused promptly rather than wait for a reconnect.
/// </summary>
internal sealed partial class RedisDirectory : IClusterDirectory
{
    /// <summary>Claims re-asserted or dropped per script call: large enough to be few calls, small enough not to stall Redis.</summary>
    private const int Batch = 512;

    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly RedisKeys _keys;
    private readonly ClusterConfig _config;
    private readonly ILogger _logger;
    private readonly RedisChannel _events;
    private NodeRecord? _self;
    private string _nodeId = "";
    private long _epoch;

    private RedisDirectory(ConnectionMultiplexer redis, ClusterConfig config, ILogger logger)
    {
        _redis = redis;
        _database = redis.GetDatabase();
        _config = config;
        _keys = new RedisKeys(config.Name);
        _logger = logger;
        _events = RedisChannel.Literal(_keys.Events);
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    public long Epoch => _epoch;

    public event Action<string>? NodeLeft;

    private string Member => _nodeId + "|" + _epoch.ToString(CultureInfo.InvariantCulture);

    private string ValuePrefix => Member + "|";

    private RedisKey OwnClaims => _keys.Claims(_nodeId, _epoch);

    /// <summary>Connects and subscribes to the cluster's announcements; after that, StackExchange.Redis reconnects by itself.</summary>
    public static async Task<IClusterDirectory> ConnectAsync(ClusterConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        ConfigurationOptions options;
        try
        {
            options = ParseConfiguration(config.Redis);
        }
        catch (ArgumentException e)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"CoordConfig.Cluster.Redis is not a Redis configuration string: {e.Message}", e);
        }

        // The first connect must succeed (a node that cannot reach its directory cannot start); later ones retry by themselves.
        options.AbortOnConnectFail = true;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "conec-" + config.NodeId;
        var redis = await Run(() => ConnectionMultiplexer.ConnectAsync(options)).WaitAsync(cancellationToken);
        var directory = new RedisDirectory(redis, config, logger);
        try
        {
            await Run(() => SubscribeWhenReadyAsync(redis, directory, TimeSpan.FromMilliseconds(options.ConnectTimeout), cancellationToken));
            return directory;
        }
        catch
        {
            await directory.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Subscribes to the announcements. The subscription connection can still be connecting when ConnectAsync
    /// returns, and a fail-fast command then fails at once, so it is retried for as long as a connect may take.
    /// </summary>
    private static async Task SubscribeWhenReadyAsync(ConnectionMultiplexer redis, RedisDirectory directory, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(directory._events, directory.OnEvent).WaitAsync(cancellationToken);
                return;
            }
            catch (RedisConnectionException) when (waited.Elapsed < connectTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
        }
    }

    /// <summary>
    /// A StackExchange.Redis configuration string, where a first entry that is an absolute path names a unix socket
    /// (which the string syntax itself cannot say).
    /// </summary>
    private static ConfigurationOptions ParseConfiguration(string configuration)
    {
        var parts = configuration.Split(',', 2, StringSplitOptions.TrimEntries);
        if (!parts[0].StartsWith('/'))
        {
            return ConfigurationOptions.Parse(configuration);
        }

        var options = parts.Length > 1 && parts[1].Length > 0 ? ConfigurationOptions.Parse(parts[1]) : new ConfigurationOptions();
        options.EndPoints.Add(new System.Net.Sockets.UnixDomainSocketEndPoint(parts[0]));
        return options;
    }

    public async Task<bool> RegisterAsync(NodeRecord self, CancellationToken cancellationToken)
    {
        _self = self;
        _nodeId = RedisKeys.Normalize(self.NodeId);
        if (_epoch == 0)
        {
            _epoch = await Run(() => _database.StringIncrementAsync(_keys.Epochs)).WaitAsync(cancellationToken);
        }

        return await LeaseAsync(cancellationToken) != 0;
    }

    public async Task<LeaseState> RenewAsync(CancellationToken cancellationToken) => await LeaseAsync(cancellationToken) switch
    {
        1 => LeaseState.Held,
        2 => LeaseState.Restored,
        _ => LeaseState.Lost,
    };

    public async Task<string?> ClaimAsync(string clientId, long session, CancellationToken cancellationToken)
    {
        var id = RedisKeys.Normalize(clientId);
        var result = await Script(RedisScripts.Claim, [_keys.Client(id), OwnClaims], [Value(session), ValuePrefix, _keys.Prefix, id], cancellationToken);
        return result.IsNull ? null : (string?)result;
    }

    public async Task ReleaseAsync(string clientId, long session, CancellationToken cancellationToken)
    {
        var id = RedisKeys.Normalize(clientId);
        await Script(RedisScripts.Release, [_keys.Client(id), OwnClaims], [Value(session), id], cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ReconcileAsync(IReadOnlyCollection<KeyValuePair<string, long>> sessions, CancellationToken cancellationToken)
    {
        var held = sessions.ToDictionary(s => RedisKeys.Normalize(s.Key), s => s.Value);
        var recorded = await Run(() => _database.SetMembersAsync(OwnClaims)).WaitAsync(cancellationToken);
        var gone = recorded.Select(m => (string)m!).Where(id => !held.ContainsKey(id)).ToList();
        foreach (var chunk in gone.Chunk(Batch))
        {
            await Script(RedisScripts.Drop, [OwnClaims], [ValuePrefix, _keys.Prefix, .. chunk.Select(id => (RedisValue)id)], cancellationToken);
        }

        var conflicts = new List<string>();
        foreach (var chunk in held.Chunk(Batch))
        {
            RedisValue[] arguments = [ValuePrefix, _keys.Prefix, .. chunk.SelectMany(c => new RedisValue[] { c.Key, Value(c.Value) })];
            var result = await Script(RedisScripts.Assert, [OwnClaims], arguments, cancellationToken);
            conflicts.AddRange(((RedisResult[])result!).Select(r => (string)r!));
        }

        return conflicts;
    }

    public async Task<NodeRecord?> LocateAsync(string clientId, CancellationToken cancellationToken)
    {
        var result = await Script(RedisScripts.Locate, [_keys.Client(RedisKeys.Normalize(clientId))], [_keys.Prefix], cancellationToken);
        if (result.IsNull)
        {
            return null;
        }

        var fields = (RedisResult[])result!;
        return new NodeRecord((string)fields[0]!, (string)fields[1]!, int.Parse((string)fields[2]!, CultureInfo.InvariantCulture));
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken) =>
        (int)await Script(RedisScripts.Sweep, [_keys.Nodes], [_keys.Prefix], cancellationToken);

    public Task<IReadOnlyList<BroadcastPart>> RecordBroadcastAsync(string name, BroadcastPart? part, CancellationToken cancellationToken) =>
        BroadcastAsync(name, part is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{part.Incarnation}|{part.Senders}|{part.Receivers}|{part.Members}"), cancellationToken);

    public Task<IReadOnlyList<BroadcastPart>> BroadcastPartsAsync(string name, CancellationToken cancellationToken) =>
        BroadcastAsync(name, "?", cancellationToken);

    public async Task<(IReadOnlyList<string> All, IReadOnlyList<string> Own)> BroadcastNamesAsync(CancellationToken cancellationToken)
    {
        var all = await Run(() => _database.SetMembersAsync(_keys.BroadcastNames)).WaitAsync(cancellationToken);
        var own = await Run(() => _database.SetMembersAsync(_keys.Broadcasts(_nodeId, _epoch))).WaitAsync(cancellationToken);
        return ([.. all.Select(n => (string)n!)], [.. own.Select(n => (string)n!)]);
    }

    public async Task<IReadOnlyList<NodeRecord>> NodesAsync(CancellationToken cancellationToken)
    {
        var members = await Run(() => _database.SetMembersAsync(_keys.Nodes)).WaitAsync(cancellationToken);
        var nodes = new List<NodeRecord>();
        foreach (var member in members.Select(m => (string)m!))
        {
            var split = member.LastIndexOf('|');
            var node = member[..split];
            var record = await Run(() => _database.HashGetAsync(_keys.Node(node), ["epoch", "host", "port"])).WaitAsync(cancellationToken);
            if ((string?)record[0] == member[(split + 1)..])
            {
                nodes.Add(new NodeRecord(node, (string)record[1]!, int.Parse((string)record[2]!, CultureInfo.InvariantCulture)));
            }
        }

        return [.. nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal)];
    }

    public async Task<long> ClaimCountAsync(CancellationToken cancellationToken)
    {
        // Each live incarnation keeps its claims in a set of its own: the count is the sum of their sizes.
        var members = await Run(() => _database.SetMembersAsync(_keys.Nodes)).WaitAsync(cancellationToken);
        var total = 0L;
        foreach (var member in members.Select(m => (string)m!))
        {
            var split = member.LastIndexOf('|');
            var node = member[..split];
            var epoch = member[(split + 1)..];
            if ((string?)await Run(() => _database.HashGetAsync(_keys.Node(node), "epoch")).WaitAsync(cancellationToken) == epoch)
            {
                total += await Run(() => _database.SetLengthAsync(_keys.Claims(node, long.Parse(epoch, CultureInfo.InvariantCulture)))).WaitAsync(cancellationToken);
            }
        }

        return total;
    }

    private async Task<IReadOnlyList<BroadcastPart>> BroadcastAsync(string name, string value, CancellationToken cancellationToken)
    {
        var result = await Script(RedisScripts.Broadcast, [_keys.Broadcast(name), _keys.Broadcasts(_nodeId, _epoch), _keys.BroadcastNames],
            [Member, value, name, _keys.Prefix], cancellationToken);
        var parts = new List<BroadcastPart>();
        foreach (var entry in (RedisResult[])result!)
        {
            var fields = (RedisResult[])entry!;
            var numbers = ((string)fields[3]!).Split('|');
            var node = new NodeRecord((string)fields[0]!, (string)fields[1]!, int.Parse((string)fields[2]!, CultureInfo.InvariantCulture));
            parts.Add(new BroadcastPart(node, long.Parse(numbers[0], CultureInfo.InvariantCulture),
                int.Parse(numbers[1], CultureInfo.InvariantCulture), int.Parse(numbers[2], CultureInfo.InvariantCulture),
                int.Parse(numbers[3], CultureInfo.InvariantCulture)));
        }

        return parts;
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        if (_epoch == 0)
        {
            return;
        }

        await Script(RedisScripts.Leave, [_keys.Node(_nodeId), _keys.Nodes, OwnClaims],
            [_epoch, Member, _keys.Prefix, ValuePrefix, _keys.Events, _nodeId], cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        await _redis.DisposeAsync();
    }

    private async Task<long> LeaseAsync(CancellationToken cancellationToken)
    {
        var self = _self ?? throw new InvalidOperationException("The node must register before it renews its lease.");
        var lease = (long)_config.LeaseTime.TotalMilliseconds;
        return (long)await Script(RedisScripts.Lease, [_keys.Node(_nodeId), _keys.Nodes],
            [_epoch, self.LinkHost, self.LinkPort, lease, Member], cancellationToken);
    }

    private string Value(long session) => ValuePrefix + session.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs a script (StackExchange.Redis sends its hash once Redis knows it, EVALSHA, else the text).</summary>
    private Task<RedisResult> Script(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken) =>
        Run(() => _database.ScriptEvaluateAsync(script, keys, values)).WaitAsync(cancellationToken);

    /// <summary>Every failure to reach or use Redis is the one error the coordinator handles: the directory is unavailable.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> command)
    {
        try
        {
            return await command();
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new ConecException(ConecError.ClusterUnavailable, $"Redis ({e.GetType().Name}): {e.Message}", e);
        }
    }

    private static async Task Run(Func<Task> command) => await Run(async () =>
    {
        await command();
        return true;
    });

    private void OnEvent(RedisChannel channel, RedisValue message)
    {
        var text = (string?)message ?? "";
        if (text.StartsWith("left|", StringComparison.Ordinal))
        {
            NodeLeft?.Invoke(text[5..]);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => Log.ConnectionFailed(_logger, e.EndPoint, e.FailureType, e.Exception);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Log.ConnectionRestored(_logger, e.EndPoint);

    private static partial class Log
    {
        [LoggerMessage(EventId = 2150, Level = LogLevel.Warning, Message = "Lost the connection to Redis at {EndPoint} ({Failure})")]
        public static partial void ConnectionFailed(ILogger logger, System.Net.EndPoint? endPoint, ConnectionFailureType failure, Exception? exception);

        [LoggerMessage(EventId = 2151, Level = LogLevel.Information, Message = "The connection to Redis at {EndPoint} is restored")]
        public static partial void ConnectionRestored(ILogger logger, System.Net.EndPoint? endPoint);
    }
}
