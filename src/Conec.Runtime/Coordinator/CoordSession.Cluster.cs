using System.Net;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator;

/// <summary>
/// A client's streams across a cluster: to a client on another node (over a link), and, on the node that holds
/// this client, the link streams other nodes open to it. A proxied stream across nodes is two relays joined by
/// one link stream, so back-pressure, finish, reset and stop codes cross it as they cross one relay.
/// </summary>
internal sealed partial class CoordSession
{
    /// <summary>This session's number in its claim of the id (docs/cluster.md); 0 outside a cluster.</summary>
    public long ClaimNumber { get; set; }

    /// <summary>Closes the client on the cluster's word (its id is held elsewhere, or this node left the cluster).</summary>
    public Task CloseForClusterAsync(long code, string reason) => CloseAsync(code, reason);

    /// <summary>Records a join in the cluster's directory; on an outage the join is refused (its count could not be exact).</summary>
    private static async Task<bool> RecordJoinAsync(Cluster.ClusterNode cluster, TransportStream stream, string name, CancellationToken shutdown)
    {
        try
        {
            await cluster.RecordBroadcastAsync(name, shutdown);
            return true;
        }
        catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
        {
            await RefuseStreamAsync(stream, (ConecError.ClusterUnavailable, $"The join of '{name}' cannot be recorded in the cluster: {e.Message}"));
            return false;
        }
    }

    /// <summary>Relays <paramref name="stream"/> to a client that is not on this node, through the link to its node.</summary>
    private async Task RelayAcrossClusterAsync(TransportStream stream, StreamHeader header, CancellationToken shutdown)
    {
        var request = new LinkMessage(LinkStreamKind.Relay, Id, header.Name!, header.StreamId) { TraceParent = header.TraceParent };
        if (await OpenLinkAsync(stream, request, shutdown) is not { } link)
        {
            return;
        }

        try
        {
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            link.Stream.AbortWrite(ProtocolCodes.StreamPeerLost);
            await link.Stream.DisposeAsync();
            await stream.DisposeAsync();
            return;
        }

        await StreamRelay.RunAsync(stream, link.Stream, _coord.Metrics, shutdown, secondLost: ProtocolCodes.StreamLinkLost);
    }

    /// <summary>Brokers a direct channel with a client on another node: its node offers it and answers with where it listens.</summary>
    private async Task BrokerAcrossClusterAsync(TransportStream stream, StreamHeader request, CancellationToken shutdown)
    {
        var offer = new LinkMessage(LinkStreamKind.ChannelOffer, Id, request.Name!, request.StreamId)
        {
            Certificate = Connection.RemoteCertificate.RawData,
            EndPoint = Connection.RemoteEndPoint,
        };
        if (await OpenLinkAsync(stream, offer, shutdown) is not { } link)
        {
            return;
        }

        await link.Stream.DisposeAsync();
        try
        {
            // The answer is the target node's own channel reply (address, port, certificate), passed on as it is.
            await stream.WriteAsync(SingleFrame.Encode(link.Reply), completeWrites: true, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The requester is gone; the target's expectation lapses when nobody connects.
        }

        await stream.DisposeAsync();
    }

    /// <summary>Opens the link stream for <paramref name="request"/>; on failure refuses <paramref name="stream"/> with the reason and returns null.</summary>
    private async Task<(TransportStream Stream, byte[] Reply)?> OpenLinkAsync(TransportStream stream, LinkMessage request, CancellationToken shutdown)
    {
        try
        {
            return await _coord.Cluster!.OpenAsync(request.To, request, shutdown);
        }
        catch (ConecException e)
        {
            await RefuseStreamAsync(stream, (e.Error, e.Message));
        }
        catch (OperationCanceledException)
        {
            await RefuseStreamAsync(stream, null);
        }

        return null;
    }

    /// <summary>On this client's node: another node relays a proxied stream to this client.</summary>
    public async Task ServeLinkRelayAsync(TransportStream link, LinkMessage header, CancellationToken shutdown)
    {
        var relayed = new StreamHeader(StreamHeaderKind.FromPeer, header.From, header.StreamId!.Value) { TraceParent = header.TraceParent };
        if (await OpenLegAsync(link, relayed, shutdown) is { } leg)
        {
            await StreamRelay.RunAsync(link, leg, _coord.Metrics, shutdown, firstLost: ProtocolCodes.StreamLinkLost);
        }
    }

    /// <summary>On this client's node: another node's <c>Coord.NewStreamAsync</c> to this client; ids come from this session, so they never collide.</summary>
    public async Task ServeLinkCoordinatorStreamAsync(TransportStream link, LinkMessage header, CancellationToken shutdown)
    {
        ulong streamId;
        try
        {
            if (header.StreamId is { } chosen)
            {
                CoordinatorStreamIds.Claim(chosen);
            }

            streamId = header.StreamId ?? CoordinatorStreamIds.Next();
        }
        catch (ConecException e)
        {
            await RefuseStreamAsync(link, (e.Error, e.Message));
            return;
        }

        _coord.Metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", "coordinator"));
        if (await OpenLegAsync(link, new StreamHeader(StreamHeaderKind.FromCoordinator, null, streamId), shutdown) is { } leg)
        {
            await StreamRelay.RunAsync(link, leg, _coord.Metrics, shutdown, firstLost: ProtocolCodes.StreamLinkLost);
        }
    }

    /// <summary>On this client's node: a client on another node asks for a direct channel to this client.</summary>
    public async Task ServeLinkOfferAsync(TransportStream link, LinkMessage header, CancellationToken shutdown)
    {
        if (ListenPort == 0)
        {
            await RefuseStreamAsync(link, (ConecError.ChannelRefused, $"The client '{Id}' does not accept direct channels."));
            return;
        }

        var offer = new StreamHeader(StreamHeaderKind.ChannelOffer, header.From, header.StreamId!.Value)
        {
            Certificate = header.Certificate,
            EndPoint = header.EndPoint,
        };
        if (await AskAsync(offer, shutdown) is { } refusal)
        {
            await RefuseStreamAsync(link, refusal);
            return;
        }

        var endPoint = new IPEndPoint(Connection.RemoteEndPoint.Address, ListenPort);
        try
        {
            // Across nodes the initiator dials as before: the link carries no punch candidates (docs/cluster.md).
            var route = new ChannelRoute(endPoint, Connection.RemoteCertificate.RawData, Punch: false, Candidates: []);
            await link.WriteAsync(SingleFrame.Encode(StreamReply.Channel(route)), completeWrites: true, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The requesting node is gone; this client's expectation lapses when nobody connects.
        }

        await link.DisposeAsync();
    }

    /// <summary>Opens this client's leg with <paramref name="header"/> and accepts the link stream; on failure refuses it and returns null.</summary>
    private async Task<TransportStream?> OpenLegAsync(TransportStream link, StreamHeader header, CancellationToken shutdown)
    {
        TransportStream leg;
        try
        {
            leg = await Connection.OpenStreamAsync(shutdown);
            await leg.WriteAsync(SingleFrame.Encode(header.Encode()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            await RefuseStreamAsync(link, (ConecError.UnknownPeer, $"The client '{Id}' could not be reached: {e.Message}"));
            return null;
        }

        try
        {
            await link.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
            return leg;
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            leg.AbortWrite(ProtocolCodes.StreamLinkLost);
            await leg.DisposeAsync();
            await link.DisposeAsync();
            return null;
        }
    }
}
