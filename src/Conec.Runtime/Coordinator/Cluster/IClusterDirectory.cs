namespace Conec.Coordinator.Cluster;

/// <summary>
/// The cluster's directory as one node sees it: its own lease, the claims of its clients' ids, and where other
/// clients are. The coordinator talks to the directory through this seam only, so another engine can follow
/// Redis without touching the coordinator. Every method throws <see cref="ConecException"/> with
/// <see cref="ConecError.ClusterUnavailable"/> when the directory cannot be reached.
/// </summary>
/// <remarks>
/// A claim belongs to one session of one node incarnation (node id, epoch, session number): a node that restarts
/// gets a new epoch, and a release or a re-assertion of one session never touches a later session's claim.
/// </remarks>
internal interface IClusterDirectory : IAsyncDisposable
{
    /// <summary>This node's epoch, once <see cref="RegisterAsync"/> has returned.</summary>
    long Epoch { get; }

    /// <summary>
    /// Raised (on a directory thread) when a node announces that it left cleanly: links to it and what was known of
    /// its clients can go at once.
    /// </summary>
    event Action<string>? NodeLeft;

    /// <summary>
    /// Takes a new epoch and writes this node's record with its lease. Returns false, writing nothing, while a live
    /// node (another process, or this node's previous incarnation whose lease has not lapsed) holds the node id.
    /// </summary>
    Task<bool> RegisterAsync(NodeRecord self, CancellationToken cancellationToken);

    /// <summary>Extends the lease (Redis's clock, never this machine's); re-creates the record if it had lapsed.</summary>
    Task<LeaseState> RenewAsync(CancellationToken cancellationToken);

    /// <summary>Claims <paramref name="clientId"/> for <paramref name="session"/>; returns the live node that holds it instead, if one does.</summary>
    Task<string?> ClaimAsync(string clientId, long session, CancellationToken cancellationToken);

    /// <summary>Drops the claim of <paramref name="clientId"/> if <paramref name="session"/> still holds it.</summary>
    Task ReleaseAsync(string clientId, long session, CancellationToken cancellationToken);

    /// <summary>
    /// Makes this node's claims exactly <paramref name="sessions"/>: drops its claims of clients that are gone and
    /// claims the rest again. Returns the ids another live node holds meanwhile; those sessions must end.
    /// </summary>
    Task<IReadOnlyList<string>> ReconcileAsync(IReadOnlyCollection<KeyValuePair<string, long>> sessions, CancellationToken cancellationToken);

    /// <summary>The live node that holds <paramref name="clientId"/>'s claim, or <see langword="null"/> when none does.</summary>
    Task<NodeRecord?> LocateAsync(string clientId, CancellationToken cancellationToken);

    /// <summary>Removes the claims of nodes whose lease lapsed; returns how many claims went.</summary>
    Task<int> SweepAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes this node's part of broadcast <paramref name="name"/> (<paramref name="part"/>; null when this node has no
    /// members of it any more) and returns the other live nodes' parts, read in the same step: of two nodes writing
    /// their first part at once, the later one always sees the earlier.
    /// </summary>
    Task<IReadOnlyList<BroadcastPart>> RecordBroadcastAsync(string name, BroadcastPart? part, CancellationToken cancellationToken);

    /// <summary>The other live nodes' parts of broadcast <paramref name="name"/>.</summary>
    Task<IReadOnlyList<BroadcastPart>> BroadcastPartsAsync(string name, CancellationToken cancellationToken);

    /// <summary>The names of every broadcast with a part on some node, and of those this node recorded.</summary>
    Task<(IReadOnlyList<string> All, IReadOnlyList<string> Own)> BroadcastNamesAsync(CancellationToken cancellationToken);

    /// <summary>The live nodes of the cluster (this one included), by id.</summary>
    Task<IReadOnlyList<NodeRecord>> NodesAsync(CancellationToken cancellationToken);

    /// <summary>How many client ids the live nodes hold claims for: the cluster's client count.</summary>
    Task<long> ClaimCountAsync(CancellationToken cancellationToken);

    /// <summary>Clean exit: drops this node's record, every claim and broadcast part it holds, and tells the other nodes.</summary>
    Task LeaveAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One node's part of a broadcast: the life of its channel (which a link names), its members writing and reading, and its members.
/// <see cref="Node"/> is null for this node's own part when it is written.
/// </summary>
internal sealed record BroadcastPart(NodeRecord? Node, long Incarnation, int Senders, int Receivers, int Members);

/// <summary>A node as the directory records it: its id and where other nodes dial its links.</summary>
internal sealed record NodeRecord(string NodeId, string LinkHost, int LinkPort);

/// <summary>What renewing a lease found.</summary>
internal enum LeaseState
{
    /// <summary>The lease was held and is extended.</summary>
    Held,

    /// <summary>The lease had lapsed (the directory lost it, or this node could not renew in time); the record is written again and claims must be re-asserted.</summary>
    Restored,

    /// <summary>Another incarnation of this node id holds the record: this node's claims are no longer its own.</summary>
    Lost,
}
