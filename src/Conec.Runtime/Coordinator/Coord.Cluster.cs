using Conec.Coordinator;
using Conec.Coordinator.Cluster;
using Conec.Protocol;

namespace Conec;

/// <summary>The coordinator as one node of a cluster (docs/cluster.md): claims at the hello, streams to clients on other nodes.</summary>
public sealed partial class Coord
{
    private readonly ClusterNode? _cluster;

    /// <summary>This node's part in its cluster, or null for a single coordinator.</summary>
    internal ClusterNode? Cluster => _cluster;

    /// <summary>This node's id in its cluster (<c>CoordConfig.Cluster.NodeId</c>), or null for a single coordinator.</summary>
    public string? NodeId => _cluster?.NodeId;

    /// <summary>The ids of the cluster's live nodes, this one included, as the directory has them; empty for a single coordinator.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> while the directory cannot be reached.</exception>
    public async ValueTask<IReadOnlyList<string>> GetClusterNodesAsync(CancellationToken cancellationToken = default) =>
        _cluster is null ? [] : [.. (await _cluster.NodesAsync(cancellationToken)).Select(n => n.NodeId)];

    /// <summary>Clients connected to every node of the cluster (their claimed ids); <see cref="ClientCount"/> for a single coordinator.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> while the directory cannot be reached.</exception>
    public async ValueTask<long> GetClusterClientCountAsync(CancellationToken cancellationToken = default) =>
        _cluster is null ? ClientCount : await _cluster.ClientCountAsync(cancellationToken);

    /// <summary>Cancelled when the coordinator starts shutting down; link streams to its clients end with it.</summary>
    internal CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>The ids of the registered sessions with their claim numbers, for re-asserting claims.</summary>
    internal IReadOnlyCollection<KeyValuePair<string, long>> ClusterSessions() =>
        [.. _clients.Values.Where(s => s.ClaimNumber != 0).Select(s => new KeyValuePair<string, long>(s.Id, s.ClaimNumber))];

    /// <summary>The registered clients right now, for monitoring: id and address as this node sees them.</summary>
    internal IReadOnlyList<(string Id, System.Net.IPEndPoint RemoteEndPoint)> ClientsSnapshot() =>
        [.. _clients.Values.Select(s => (s.Id, s.Connection.RemoteEndPoint)).OrderBy(c => c.Id, StringComparer.OrdinalIgnoreCase)];

    internal async Task CloseForClusterAsync(string clientId, long code, string reason)
    {
        if (_clients.TryGetValue(clientId, out var session))
        {
            await session.CloseForClusterAsync(code, reason);
        }
    }

    /// <summary>
    /// Claims a newly registered session's id across the cluster (nothing to do for a single coordinator); on a
    /// refusal the session is unregistered again, uncounted, and the refusal returned.
    /// </summary>
    private async Task<(ConecError Error, string Reason)?> ClaimInClusterAsync(CoordSession session, CancellationToken cancellationToken)
    {
        if (_cluster is null)
        {
            return null;
        }

        var refusal = await _cluster.ClaimAsync(session, cancellationToken);
        if (refusal is not null)
        {
            // Nothing to release: a claim that Redis applied before failing is dropped when the claims are re-asserted.
            _clients.TryRemove(new KeyValuePair<string, CoordSession>(session.Id, session));
        }

        return refusal;
    }

    /// <summary>A coordinator stream to a client on another node; that node chooses automatic ids (<paramref name="streamId"/> null).</summary>
    private async ValueTask<StreamPair> OpenInClusterAsync(string clientId, ulong? streamId, CancellationToken cancellationToken)
    {
        var request = new LinkMessage(LinkStreamKind.FromCoordinator, "", clientId, streamId);
        var (stream, _) = await _cluster!.OpenAsync(clientId, request, cancellationToken);
        var limit = _config.MaxMessageSize;
        return new StreamPair(new OutStream(stream, limit), new InStream(stream, limit)) { Kind = StreamKind.Coordinator };
    }
}
