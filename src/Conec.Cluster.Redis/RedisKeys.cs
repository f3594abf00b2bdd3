namespace Conec.Redis;

/// <summary>
/// Every key and channel name of one cluster, built in one place. All share the hash tag <c>{name}</c>, so a
/// script that touches several of them addresses one hash slot, and clusters with different names never meet.
/// </summary>
internal sealed class RedisKeys(string clusterName)
{
    /// <summary>Prefix of every key: <c>{name}:</c>. The scripts build keys from it for ids they read from Redis.</summary>
    public string Prefix { get; } = "{" + clusterName + "}:";

    /// <summary>A counter: each node incarnation takes the next number as its epoch.</summary>
    public string Epochs => Prefix + "epochs";

    /// <summary>A set of <c>node|epoch</c> of every registered incarnation, for sweeping those whose lease lapsed.</summary>
    public string Nodes => Prefix + "nodes";

    /// <summary>Pub/sub channel of node announcements (<c>left|node</c>).</summary>
    public string Events => Prefix + "events";

    /// <summary>A node's record (hash: epoch, host, port), whose expiry is the node's lease.</summary>
    public string Node(string nodeId) => Prefix + "node:" + nodeId;

    /// <summary>A client's claim (string <c>node|epoch|session</c>).</summary>
    public string Client(string clientId) => Prefix + "client:" + clientId;

    /// <summary>The ids one node incarnation claimed (a set), so that its claims can go with it.</summary>
    public string Claims(string nodeId, long epoch) => Prefix + "claims:" + nodeId + ":" + epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A broadcast's parts: a hash of <c>node|epoch</c> -> <c>incarnation|senders|receivers|members</c> (names compare ordinally).</summary>
    public string Broadcast(string name) => Prefix + "bcast:" + name;

    /// <summary>The broadcasts one node incarnation has a part in (a set), so that its parts can go with it.</summary>
    public string Broadcasts(string nodeId, long epoch) => Prefix + "bcasts:" + nodeId + ":" + epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The names of broadcasts with a part on some node (a set), for the coordinator's view of the cluster.</summary>
    public string BroadcastNames => Prefix + "bcastnames";

    /// <summary>Ids and node ids are DNS names, compared case-insensitively: keys and values use them in lower case.</summary>
    public static string Normalize(string id) => id.ToLowerInvariant();
}
