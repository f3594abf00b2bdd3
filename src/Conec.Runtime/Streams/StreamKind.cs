namespace Conec;

/// <summary>How a stream travels between its two ends.</summary>
public enum StreamKind
{
    /// <summary>Relayed by the coordinator from another client (or from this client to itself).</summary>
    Proxied = 1,

    /// <summary>Over a direct channel between two clients.</summary>
    Direct = 2,

    /// <summary>Between a client and the coordinator itself (the peer id is the client's on the coordinator, <see langword="null"/> on the client).</summary>
    Coordinator = 3,

    /// <summary>A broadcast membership: what this side sends reaches every member, stamped with its id.</summary>
    Broadcast = 4,
}
