using System.Buffers;
using System.Net;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator;

/// <summary>Brokering direct channels: the coordinator vouches for each side's certificate and tells where to connect.</summary>
internal sealed partial class CoordSession
{
    private async Task BrokerChannelAsync(TransportStream stream, StreamHeader request, CancellationToken shutdown)
    {
        var targetId = request.Name!;
        if (string.Equals(targetId, Id, StringComparison.OrdinalIgnoreCase))
        {
            await RefuseStreamAsync(stream, (ConecError.ChannelRefused, "A client cannot open a direct channel to itself."));
            return;
        }

        if (!_coord.TryGetClient(targetId, out var target))
        {
            if (_coord.Cluster is not null)
            {
                await BrokerAcrossClusterAsync(stream, request, shutdown);
                return;
            }

            await RefuseStreamAsync(stream, (ConecError.UnknownPeer, $"No client with id '{targetId}' is connected to the coordinator."));
            return;
        }

        if (target.ListenPort == 0)
        {
            await RefuseStreamAsync(stream, (ConecError.ChannelRefused, $"The client '{targetId}' does not accept direct channels."));
            return;
        }

        // The target learns who is coming and which certificate to expect: exactly the one presented here. When both
        // sides' connections here leave from their listeners' ports, each opens towards the other at once on receiving
        // its message (the target first, by the time the answer reaches the initiator), so each NAT sees outgoing
        // traffic before the other's arrives; both retry within their window to cover the gap.
        var punch = SharesPort && target.SharesPort;
        var offer = new StreamHeader(StreamHeaderKind.ChannelOffer, Id, request.StreamId)
        {
            Certificate = Connection.RemoteCertificate.RawData,
            EndPoint = Connection.RemoteEndPoint,
            Punch = punch,
            Candidates = Candidates(),
        };
        var answer = await target.AskAsync(offer, shutdown);
        if (answer is { } refusal)
        {
            await RefuseStreamAsync(stream, refusal);
            return;
        }

        var targetEndPoint = new IPEndPoint(Observed(target.Connection.RemoteEndPoint).Address, target.ListenPort);
        var route = new ChannelRoute(targetEndPoint, target.Connection.RemoteCertificate.RawData, punch, target.Candidates());
        try
        {
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Channel(route)), completeWrites: true, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The requester is gone; the target's expectation lapses when nobody connects.
        }

        await stream.DisposeAsync();
    }

    /// <summary>
    /// Where peers may reach this client's listener, best first: the address and port this coordinator observes
    /// (through a port-preserving or endpoint-independent NAT it leads to the listener, when the client shares its
    /// port), the observed address with the listen port (a client with a public address), and the client's own
    /// addresses with the listen port (peers behind the same NAT, which Linux masquerade does not hairpin).
    /// </summary>
    private List<IPEndPoint> Candidates()
    {
        var observed = Observed(Connection.RemoteEndPoint);
        var candidates = new List<IPEndPoint>();
        if (SharesPort)
        {
            candidates.Add(observed);
        }

        candidates.Add(new IPEndPoint(observed.Address, ListenPort));
        foreach (var own in LocalAddresses)
        {
            candidates.Add(new IPEndPoint(own.IsIPv4MappedToIPv6 ? own.MapToIPv4() : own, ListenPort));
        }

        return [.. candidates.Distinct().Take(EndPointList.MaxCount)];
    }

    /// <summary>An IPv4 peer of a dual-mode listener is reported as IPv4, as the peer dialling it needs.</summary>
    private static IPEndPoint Observed(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>Sends <paramref name="offer"/> to this client and returns its refusal, or <see langword="null"/> if it accepted.</summary>
    private async Task<(ConecError Error, string Reason)?> AskAsync(StreamHeader offer, CancellationToken shutdown)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        deadline.CancelAfter(_coord.Config.HelloTimeout);
        TransportStream? leg = null;
        try
        {
            leg = await Connection.OpenStreamAsync(deadline.Token);
            await leg.WriteAsync(SingleFrame.Encode(offer.Encode()), completeWrites: true, deadline.Token);
            var reply = await SingleFrame.ReadAsync(leg.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "it ended the offer without an answer");
            return StreamReply.Decode(new ReadOnlySequence<byte>(reply)) is { } refusal ? (refusal.Error, refusal.Message) : null;
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            return (ConecError.ChannelRefused, $"The client '{Id}' did not answer the channel offer: {e.Message}");
        }
        finally
        {
            if (leg is not null)
            {
                await leg.DisposeAsync();
            }
        }
    }
}
