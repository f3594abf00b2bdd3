using Conec.Coordinator.Cluster;

namespace Conec;

/// <summary>The coordinator's view of broadcasts: this node's channels and, in a cluster, every node's parts.</summary>
public sealed partial class Coord
{
    /// <summary>
    /// Members of broadcast <paramref name="channel"/> still writing and reading, on every node of the cluster
    /// (a join anywhere is included once it was accepted; a leave on another node once its node recorded it).
    /// </summary>
    /// <exception cref="ConecException">
    /// <see cref="ConecError.UnknownBroadcast"/> when no node has the channel; <see cref="ConecError.ClusterUnavailable"/>
    /// when the directory cannot be reached.
    /// </exception>
    public async ValueTask<BroadcastCount> GetBroadcastCountAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var info = await DescribeAsync(channel, cancellationToken);
        return info?.Count ?? throw new ConecException(ConecError.UnknownBroadcast, $"No broadcast channel is named '{channel}'.");
    }

    /// <summary>Every broadcast channel with members on some node, with its members per node, ordered by name.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> when the directory cannot be reached.</exception>
    public async Task<IReadOnlyList<BroadcastInfo>> GetBroadcastsAsync(CancellationToken cancellationToken = default)
    {
        var names = new SortedSet<string>(Broadcasts.Channels().Select(c => c.Name), StringComparer.Ordinal);
        if (_cluster is not null)
        {
            names.UnionWith(await _cluster.BroadcastNamesAsync(cancellationToken));
        }

        var views = new List<BroadcastInfo>();
        foreach (var name in names)
        {
            if (await DescribeAsync(name, cancellationToken) is { } info)
            {
                views.Add(info);
            }
        }

        return views;
    }

    private async Task<BroadcastInfo?> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        var members = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var channel = Broadcasts.Find(name);
        var (senders, receivers) = channel?.Count("", null) ?? (0, 0);
        if (channel is not null && channel.LocalMembers > 0)
        {
            members[_cluster?.NodeId ?? ""] = channel.LocalMembers;
        }

        IReadOnlyList<BroadcastPart> parts = _cluster is null ? [] : await _cluster.BroadcastPartsAsync(name, cancellationToken);
        foreach (var part in parts)
        {
            members[part.Node!.NodeId] = part.Members;
            senders += part.Senders;
            receivers += part.Receivers;
        }

        return members.Count == 0 ? null : new BroadcastInfo(name, new BroadcastCount(senders, receivers), members);
    }
}
