using System.Buffers;
using Conec.Certificates;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator.Cluster;

/// <summary>Links other nodes dialled: the link hello, then each link stream served for the client it names.</summary>
internal sealed partial class ClusterNode
{
    private async Task AcceptLinksAsync()
    {
        try
        {
            while (true)
            {
                var connection = await _links.AcceptConnectionAsync(_stopping.Token);
                _tasks.Run(() => ServeLinkAsync(connection));
            }
        }
        catch (Exception e) when ((e is OperationCanceledException or ConecException) && _stopping.IsCancellationRequested)
        {
            // Disposal: the loop's normal end.
        }
        catch (ConecException e)
        {
            // The link listener failed: streams from other nodes can no longer reach this node's clients.
            ClusterLog.LinkRefused(_logger, _links.LocalEndPoint, $"the link listener stopped: {e.Message}");
        }
    }

    private async Task ServeLinkAsync(TransportConnection connection)
    {
        await using (connection)
        {
            var peer = await AdmitLinkAsync(connection);
            if (peer is null)
            {
                return;
            }

            ClusterLog.LinkAccepted(_logger, peer, connection.RemoteEndPoint);
            var shutdown = _coord!.ShutdownToken;
            try
            {
                while (true)
                {
                    var stream = await connection.AcceptStreamAsync(_stopping.Token);
                    _tasks.Run(() => ServeLinkStreamAsync(peer, stream, shutdown));
                }
            }
            catch (Exception e) when (e is ConecException or OperationCanceledException)
            {
                // The link closed, or this node is stopping: its streams fail on both sides with the link's end.
            }
        }
    }

    /// <summary>
    /// The link hello: the dialling node names itself, and its certificate (already checked against the node CA
    /// during the handshake) must be valid for that name. Returns the node id, or null after refusing.
    /// </summary>
    private async Task<string?> AdmitLinkAsync(TransportConnection connection)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_coordConfig.HelloTimeout);
        TransportStream? control = null;
        string reason;
        try
        {
            control = await connection.AcceptStreamAsync(deadline.Token);
            var bytes = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "the link control stream ended before the hello");
            var (nodeId, version) = LinkMessage.DecodeHello(new ReadOnlySequence<byte>(bytes));
            reason = version != ProtocolConstants.Version
                ? $"the node speaks Conec protocol version {version}; this node speaks version {ProtocolConstants.Version}"
                : !DnsName.IsValid(nodeId)
                    ? $"the node id '{nodeId}' is not a DNS name"
                    : !connection.RemoteCertificate.MatchesHostname(nodeId, allowWildcards: false, allowCommonName: false)
                        ? $"the node certificate ('{connection.RemoteCertificate.Subject}') is not valid for the node id '{nodeId}'"
                        : string.Equals(nodeId, NodeId, StringComparison.OrdinalIgnoreCase)
                            ? $"the node id '{nodeId}' is this node's own"
                            : "";
            if (reason.Length == 0)
            {
                await control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloAccepted().Encode()), false, deadline.Token);
                _tasks.Run(() => WatchLinkControlAsync(connection, control));
                return nodeId;
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            ClusterLog.LinkRefused(_logger, connection.RemoteEndPoint, _stopping.IsCancellationRequested ? "the node is stopping" : $"no valid link hello: {e.Message}");
            await connection.CloseAsync(ProtocolCodes.CloseProtocolViolation, "no valid link hello", CancellationToken.None);
            if (control is not null)
            {
                await control.DisposeAsync();
            }

            return null;
        }

        ClusterLog.LinkRefused(_logger, connection.RemoteEndPoint, reason);
        try
        {
            await control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloRefused(ConecError.IdentityRejected, reason).Encode()), completeWrites: true, deadline.Token);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The dialler is gone already; the close below is all that is left.
        }

        await connection.CloseAsync(ProtocolCodes.CloseHelloRefused, reason, CancellationToken.None);
        await control.DisposeAsync();
        return null;
    }

    /// <summary>The dialling node sends nothing more on the control stream: its end is the goodbye, anything else a violation.</summary>
    private static async Task WatchLinkControlAsync(TransportConnection connection, TransportStream control)
    {
        await using (control)
        {
            try
            {
                var message = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, CancellationToken.None);
                await connection.CloseAsync(message is null ? ProtocolCodes.CloseNormal : ProtocolCodes.CloseProtocolViolation,
                    message is null ? "the node ended its link" : "unexpected message on the link control stream", CancellationToken.None);
            }
            catch (ConecException)
            {
                // The link ended: its connection's close already says why.
            }
        }
    }

    private async Task ServeLinkStreamAsync(string peer, TransportStream stream, CancellationToken shutdown)
    {
        LinkMessage header;
        try
        {
            header = await LinkMessage.ReadAsync(stream, _coordConfig.HelloTimeout, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            ClusterLog.LinkStreamRefused(_logger, peer, e.Message);
            await CoordSession.RefuseStreamAsync(stream, null);
            return;
        }

        if (header.Kind == LinkStreamKind.Broadcast)
        {
            await ServeBroadcastLinkAsync(peer, stream, header, shutdown);
            return;
        }

        if (!_coord!.TryGetClient(header.To, out var session))
        {
            await CoordSession.RefuseStreamAsync(stream, (ConecError.UnknownPeer, $"No client with id '{header.To}' is connected to the node '{NodeId}'."));
            return;
        }

        switch (header.Kind)
        {
            case LinkStreamKind.Relay:
                await session.ServeLinkRelayAsync(stream, header, shutdown);
                break;
            case LinkStreamKind.FromCoordinator:
                await session.ServeLinkCoordinatorStreamAsync(stream, header, shutdown);
                break;
            default:
                await session.ServeLinkOfferAsync(stream, header, shutdown);
                break;
        }
    }
}
