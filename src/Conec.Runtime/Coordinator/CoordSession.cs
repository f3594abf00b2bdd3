using System.Buffers;
using Conec.Concurrency;
using Conec.Coordinator.Broadcast;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;
using Microsoft.Extensions.Logging;

namespace Conec.Coordinator;

/// <summary>
/// One registered client on the coordinator: its connection, its control stream, and every stream it opens.
/// It ends when the connection does, and unregisters the client at that moment.
/// </summary>
internal sealed partial class CoordSession
{
    private readonly Coord _coord;
    private readonly TransportStream _control;
    private readonly ILogger _logger;
    private readonly TaskGroup _streams;
    private CancellationToken _shutdown;
    private int _memberships;

    public CoordSession(Coord coord, TransportConnection connection, string id, TransportStream control)
    {
        _coord = coord;
        _control = control;
        _logger = coord.Logger;
        Connection = connection;
        Id = id;
        _streams = new TaskGroup(e => CoordLog.UnexpectedFailure(_logger, e));
    }

    public string Id { get; }

    public TransportConnection Connection { get; }

    /// <summary>Where the client accepts direct channels (on its address as the coordinator sees it); 0 when it does not.</summary>
    public int ListenPort { get; init; }

    /// <summary>The client's TCP connection here leaves from <see cref="ListenPort"/> (its hello said so): peers can punch to it.</summary>
    public bool SharesPort { get; init; }

    /// <summary>The client's own addresses, as its hello gave them: where peers behind the same NAT reach it.</summary>
    public IReadOnlyList<System.Net.IPAddress> LocalAddresses { get; init; } = [];

    /// <summary>Ids of streams the coordinator opens to this client.</summary>
    public StreamIdAllocator CoordinatorStreamIds { get; } = new();

    private int MaxMessageSize => _coord.Config.MaxMessageSize;

    /// <summary>Sends the acceptance; false if the client vanished meanwhile.</summary>
    public async Task<bool> AcceptHelloAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloAccepted().Encode()), false, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            CoordLog.HelloConnectionFailed(_logger, Connection.RemoteEndPoint, e.Message);
            return false;
        }
    }

    /// <summary>Serves the client until its connection ends; unregisters it at that moment, then waits for its streams.</summary>
    public async Task RunAsync(CancellationToken shutdown)
    {
        _shutdown = shutdown;
        await using (shutdown.Register(() => _ = CloseAsync(ProtocolCodes.CloseShutdown, "the coordinator is shutting down")))
        {
            await Task.WhenAll(ControlLoopAsync(), AcceptLoopAsync(shutdown));
        }

        _coord.Unregister(this);
        await _streams.WhenAllAsync();
        await _control.DisposeAsync();
    }

    public async ValueTask<StreamPair> OpenFromCoordinatorAsync(ulong streamId, CancellationToken cancellationToken)
    {
        var stream = await Connection.OpenStreamAsync(cancellationToken);
        try
        {
            var header = new StreamHeader(StreamHeaderKind.FromCoordinator, null, streamId);
            await stream.WriteAsync(SingleFrame.Encode(header.Encode()), false, cancellationToken);
            _coord.Metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", "coordinator"));
            return new StreamPair(new OutStream(stream, MaxMessageSize), new InStream(stream, MaxMessageSize)) { Kind = StreamKind.Coordinator };
        }
        catch
        {
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// After the hello a client sends no control messages in this protocol version, so anything that arrives is a
    /// violation; the end of the control stream is the client saying goodbye.
    /// </summary>
    private async Task ControlLoopAsync()
    {
        try
        {
            var message = await SingleFrame.ReadAsync(_control.Input, ProtocolConstants.MaxControlMessageSize, CancellationToken.None);
            if (message is null)
            {
                await CloseAsync(ProtocolCodes.CloseNormal, "the client ended its control stream");
                return;
            }

            var decoded = ControlMessage.Decode(new ReadOnlySequence<byte>(message));
            throw new ConecException(ConecError.ProtocolViolation, $"Unexpected control message {decoded.Tag} after the hello.");
        }
        catch (ConecException e) when (e.Error is ConecError.ProtocolViolation or ConecError.MessageTooLarge or ConecError.TruncatedMessage)
        {
            CoordLog.ClientViolation(_logger, Id, e.Message);
            await CloseAsync(ProtocolCodes.CloseProtocolViolation, e.Message);
        }
        catch (ConecException)
        {
            // The connection ended (the client left or vanished); Connection.Closed says why, and the caller logs it.
            await CloseAsync(ProtocolCodes.CloseNormal, "the control stream failed");
        }
    }

    private async Task AcceptLoopAsync(CancellationToken shutdown)
    {
        try
        {
            while (true)
            {
                var stream = await Connection.AcceptStreamAsync(shutdown);
                _streams.Run(() => ServeStreamAsync(stream, shutdown));
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The connection closed: the loop's normal end.
            await CloseAsync(ProtocolCodes.CloseNormal, "the connection stopped accepting streams");
        }
    }

    private async Task ServeStreamAsync(TransportStream stream, CancellationToken shutdown)
    {
        StreamHeader header;
        try
        {
            header = await StreamHeader.ReadAsync(stream, _coord.Config.HelloTimeout, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            CoordLog.StreamRefused(_logger, Id, e.Message);
            await RefuseStreamAsync(stream, null);
            return;
        }

        switch (header.Kind)
        {
            case StreamHeaderKind.ToPeer:
                await RelayToPeerAsync(stream, header, shutdown);
                break;
            case StreamHeaderKind.ToCoordinator:
                await DeliverToCoordinatorAsync(stream, header, shutdown);
                break;
            case StreamHeaderKind.Broadcast:
                await JoinBroadcastAsync(stream, header, shutdown);
                break;
            case StreamHeaderKind.BroadcastCount:
                await AnswerBroadcastCountAsync(stream, header);
                break;
            case StreamHeaderKind.ChannelRequest:
                await BrokerChannelAsync(stream, header, shutdown);
                break;
            default:
                var reason = $"A client may not open a {header.Kind} stream.";
                CoordLog.StreamRefused(_logger, Id, reason);
                await RefuseStreamAsync(stream, (ConecError.ProtocolViolation, reason));
                break;
        }
    }

    private async Task RelayToPeerAsync(TransportStream stream, StreamHeader header, CancellationToken shutdown)
    {
        if (!_coord.TryGetClient(header.Name!, out var target))
        {
            if (_coord.Cluster is not null)
            {
                await RelayAcrossClusterAsync(stream, header, shutdown);
                return;
            }

            await RefuseStreamAsync(stream, (ConecError.UnknownPeer, $"No client with id '{header.Name}' is connected to the coordinator."));
            return;
        }

        TransportStream leg;
        try
        {
            leg = await target.Connection.OpenStreamAsync(shutdown);
            var relayed = new StreamHeader(StreamHeaderKind.FromPeer, Id, header.StreamId) { TraceParent = header.TraceParent };
            await leg.WriteAsync(SingleFrame.Encode(relayed.Encode()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            await RefuseStreamAsync(stream, (ConecError.UnknownPeer, $"The client '{header.Name}' could not be reached: {e.Message}"));
            return;
        }

        try
        {
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            leg.AbortWrite(ProtocolCodes.StreamPeerLost);
            await leg.DisposeAsync();
            await stream.DisposeAsync();
            return;
        }

        await StreamRelay.RunAsync(stream, leg, _coord.Metrics, shutdown);
    }

    private async Task DeliverToCoordinatorAsync(TransportStream stream, StreamHeader header, CancellationToken shutdown)
    {
        if (_coord.WhyNotServed() is { } notServed)
        {
            CoordLog.StreamRefused(_logger, Id, notServed);
            await RefuseStreamAsync(stream, (ConecError.NotServed, notServed));
            return;
        }

        try
        {
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            await stream.DisposeAsync();
            return;
        }

        var incoming = new IncomingStream(Id, header.StreamId, new OutStream(stream, MaxMessageSize), new InStream(stream, MaxMessageSize))
        {
            Kind = StreamKind.Coordinator,
        };
        if (!_coord.Deliver(incoming))
        {
            stream.AbortWrite(ProtocolCodes.StreamPeerLost);
            await stream.DisposeAsync();
        }
    }

    private async Task JoinBroadcastAsync(TransportStream stream, StreamHeader header, CancellationToken shutdown)
    {
        var policy = (SlowReceiverPolicy)header.Policy;
        if (!Enum.IsDefined(policy) || header.Capacity is < 1 or > 1 << 20)
        {
            await RefuseStreamAsync(stream, (ConecError.InvalidConfiguration, $"Broadcast policy {header.Policy} with capacity {header.Capacity} is not valid."));
            return;
        }

        if (Interlocked.Increment(ref _memberships) > _coord.Config.MaxBroadcastMembershipsPerClient)
        {
            Interlocked.Decrement(ref _memberships);
            var reason = $"The client '{Id}' already holds {_coord.Config.MaxBroadcastMembershipsPerClient} broadcast memberships, the limit.";
            CoordLog.StreamRefused(_logger, Id, reason);
            await RefuseStreamAsync(stream, (ConecError.LimitExceeded, reason));
            return;
        }

        var member = new BroadcastMember(Id, header.StreamId, stream, policy, header.Capacity, MaxMessageSize, _coord.Metrics);
        var channel = _coord.Broadcasts.Join(header.Name!, member);
        try
        {
            // Sent after the member is in the channel (and, in a cluster, in the directory and linked with every other
            // node that has members), so a count asked anywhere once the join returns already includes it.
            if (_coord.Cluster is { } cluster && !await RecordJoinAsync(cluster, stream, header.Name!, shutdown))
            {
                return;
            }

            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
            await member.RunAsync(channel, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            await stream.DisposeAsync();
        }
        finally
        {
            channel.Remove(member);
            Interlocked.Decrement(ref _memberships);
        }
    }

    private async Task AnswerBroadcastCountAsync(TransportStream stream, StreamHeader header)
    {
        var count = _coord.Broadcasts.CountOf(header.Name!, Id, header.Members);
        if (_coord.Cluster is { } cluster)
        {
            // Other nodes' members as the directory holds them (each join there was recorded before it was accepted).
            try
            {
                foreach (var part in await cluster.BroadcastPartsAsync(header.Name!, CancellationToken.None))
                {
                    count = ((count?.Senders ?? 0) + part.Senders, (count?.Receivers ?? 0) + part.Receivers);
                }
            }
            catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
            {
                await RefuseStreamAsync(stream, (ConecError.ClusterUnavailable, $"The cluster's broadcast counts cannot be read: {e.Message}"));
                return;
            }
        }

        if (count is not { } found)
        {
            await RefuseStreamAsync(stream, (ConecError.UnknownBroadcast, $"No broadcast channel is named '{header.Name}'."));
            return;
        }

        try
        {
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Count(found.Senders, found.Receivers)), completeWrites: true, CancellationToken.None);
        }
        catch (ConecException)
        {
            // The asker is gone; nobody is left to answer.
        }

        await stream.DisposeAsync();
    }

    /// <summary>Answers with the refusal (when the opener can still read one) and drops the stream; the connection stays.</summary>
    internal static async Task RefuseStreamAsync(TransportStream stream, (ConecError Error, string Reason)? refusal)
    {
        if (refusal is { } r)
        {
            try
            {
                await stream.WriteAsync(SingleFrame.Encode(StreamReply.Refused(r.Error, r.Reason)), completeWrites: true, CancellationToken.None);
            }
            catch (ConecException)
            {
                // The opener is gone already; nothing is left to tell it.
            }
        }
        else
        {
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
        }

        stream.AbortRead(ProtocolCodes.StreamHeaderRefused);
        await stream.DisposeAsync();
    }

    private async Task CloseAsync(long code, string reason)
    {
        if (_shutdown.IsCancellationRequested)
        {
            // Loops woken by the shutdown race to close; whichever wins, the client must learn the real reason.
            (code, reason) = (ProtocolCodes.CloseShutdown, "the coordinator is shutting down");
        }

        try
        {
            await Connection.CloseAsync(code, reason, CancellationToken.None);
        }
        catch (ConecException)
        {
            // Already closed by the other side: that close stands.
        }
    }
}
