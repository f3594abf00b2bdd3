namespace Conec;

/// <summary>
/// One broadcast channel as the coordinator sees it across its cluster (<see cref="Coord.GetBroadcastsAsync"/>):
/// its members on each node and its counts, at the moment it was asked.
/// </summary>
public sealed class BroadcastInfo
{
    internal BroadcastInfo(string name, BroadcastCount count, IReadOnlyDictionary<string, int> membersByNode)
    {
        Name = name;
        Count = count;
        MembersByNode = membersByNode;
    }

    /// <summary>The channel's name.</summary>
    public string Name { get; }

    /// <summary>Members writing and reading, on every node together.</summary>
    public BroadcastCount Count { get; }

    /// <summary>Members by node id; a single coordinator's are under the empty string.</summary>
    public IReadOnlyDictionary<string, int> MembersByNode { get; }
}
