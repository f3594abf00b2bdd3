using System.Net;
using Microsoft.Extensions.Logging;

namespace Conec.Coordinator.Cluster;

/// <summary>A cluster node's log messages; event ids 2101–2149 are stable.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Node {NodeId} joined cluster {Cluster} (epoch {Epoch}); links on {EndPoint}, advertised as {Host}")]
    public static partial void Joined(ILogger logger, string nodeId, string cluster, long epoch, IPEndPoint endPoint, string host);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Node {NodeId} left cluster {Cluster}")]
    public static partial void Left(ILogger logger, string nodeId, string cluster);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Node id {NodeId} is still held by a live node; waiting for its lease to lapse")]
    public static partial void WaitingForNodeId(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning, Message = "The cluster directory is unreachable: {Reason}")]
    public static partial void DirectoryUnreachable(ILogger logger, string reason);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Re-asserted {Count} claims in the cluster directory ({Conflicts} held elsewhere)")]
    public static partial void Reasserted(ILogger logger, int count, int conflicts);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Closing client {ClientId}: another client holds its id in the cluster")]
    public static partial void ClaimLost(ILogger logger, string clientId);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Error, Message = "Another process holds node id {NodeId}: this node's claims are no longer its own, so it closes its clients")]
    public static partial void NodeIdLost(ILogger logger, string nodeId);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Information, Message = "Linked to node {NodeId} at {EndPoint} over {Transport}")]
    public static partial void LinkUp(ILogger logger, string nodeId, IPEndPoint endPoint, TransportMode transport);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Information, Message = "The link to node {NodeId} ended: {Reason}")]
    public static partial void LinkDown(ILogger logger, string nodeId, string reason);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Accepted a link from node {NodeId} at {EndPoint}")]
    public static partial void LinkAccepted(ILogger logger, string nodeId, IPEndPoint endPoint);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Warning, Message = "Refused a link from {EndPoint}: {Reason}")]
    public static partial void LinkRefused(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Information, Message = "Dropped a link stream from node {NodeId}: {Reason}")]
    public static partial void LinkStreamRefused(ILogger logger, string nodeId, string reason);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Debug, Message = "Swept {Count} claims of nodes whose lease lapsed")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Information, Message = "Broadcast {Name} is not linked with node {NodeId}: {Reason}")]
    public static partial void BroadcastLinkSkipped(ILogger logger, string name, string nodeId, string reason);

    [LoggerMessage(EventId = 2149, Level = LogLevel.Error, Message = "Unexpected failure in a cluster background task")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception);
}
