using System.Buffers;
using Conec.Certificates;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec;

/// <summary>Opening streams through the coordinator, and receiving the streams others open.</summary>
public sealed partial class Client
{
    /// <summary>Room for the sender tag the coordinator adds to broadcast messages (an id of at most 253 bytes and a 4-byte trailer).</summary>
    private const int BroadcastTagAllowance = 512;

    private async ValueTask<StreamPair> OpenViaCoordinatorAsync(string? to, ulong streamId, CancellationToken cancellationToken)
    {
        if (to is not null && !DnsName.IsValid(to))
        {
            throw new ConecException(ConecError.UnknownPeer, $"'{to}' is not a valid client id (ids are DNS names).");
        }

        using var activity = Diagnostics.ConecTelemetry.Source.StartActivity("conec.stream.open", System.Diagnostics.ActivityKind.Producer);
        activity?.SetTag("conec.peer", to ?? "coordinator");
        var header = to is null
            ? new StreamHeader(StreamHeaderKind.ToCoordinator, null, streamId)
            : new StreamHeader(StreamHeaderKind.ToPeer, to, streamId) { TraceParent = activity?.Id };
        var (stream, _) = await OpenWithReplyAsync(header, cancellationToken);
        _metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", to is null ? "coordinator" : "proxied"));
        return new StreamPair(new OutStream(stream, _config.MaxMessageSize), new InStream(stream, _config.MaxMessageSize))
        {
            Kind = to is null ? StreamKind.Coordinator : StreamKind.Proxied,
        };
    }

    /// <summary>
    /// Opens a stream to the coordinator with <paramref name="header"/> and waits for its reply on that stream.
    /// Returns the stream and the reply; a refusal is thrown, and the stream is then released.
    /// </summary>
    private async ValueTask<(TransportStream Stream, byte[] Reply)> OpenWithReplyAsync(StreamHeader header, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var stream = await _link.Connection.OpenStreamAsync(cancellationToken);
        try
        {
            await stream.WriteAsync(SingleFrame.Encode(header.Encode()), false, cancellationToken);
            var reply = await SingleFrame.ReadAsync(stream.Input, ProtocolConstants.MaxControlMessageSize, cancellationToken)
                ?? throw new ConecException(ConecError.ProtocolViolation, "The coordinator ended the stream without accepting or refusing it.");
            if (StreamReply.Decode(new ReadOnlySequence<byte>(reply)) is { } refusal)
            {
                throw refusal;
            }

            return (stream, reply);
        }
        catch
        {
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Reads an incoming stream's header and hands it to the user; a bad header drops that stream only.</summary>
    private async Task ReceiveStreamAsync(TransportStream stream)
    {
        IncomingStream incoming;
        try
        {
            var header = await StreamHeader.ReadAsync(stream, _config.ConnectTimeout, _shutdown.Token);
            if (header.Kind == StreamHeaderKind.ChannelOffer)
            {
                await AnswerOfferAsync(stream, header);
                return;
            }

            var send = new OutStream(stream, _config.MaxMessageSize);
            var receive = new InStream(stream, _config.MaxMessageSize);
            incoming = header.Kind switch
            {
                StreamHeaderKind.FromPeer => new IncomingStream(header.Name, header.StreamId, send, receive)
                {
                    Kind = StreamKind.Proxied,
                    TraceContext = Diagnostics.ConecTelemetry.ParseTraceParent(header.TraceParent),
                },
                StreamHeaderKind.FromCoordinator => new IncomingStream(null, header.StreamId, send, receive) { Kind = StreamKind.Coordinator },
                _ => throw new ConecException(ConecError.ProtocolViolation, $"the coordinator may not open a {header.Kind} stream"),
            };
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            ClientLog.StreamRefused(_logger, Id, e.Message);
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
            stream.AbortRead(ProtocolCodes.StreamHeaderRefused);
            await stream.DisposeAsync();
            return;
        }

        if (!_incoming.Writer.TryWrite(incoming))
        {
            stream.AbortWrite(ProtocolCodes.StreamPeerLost);
            await stream.DisposeAsync();
        }
    }

    /// <summary>The coordinator announces a peer that wants a direct channel: expect it (or say why not).</summary>
    private async Task AnswerOfferAsync(TransportStream stream, StreamHeader offer)
    {
        var refusal = _channels.OnOffer(offer);
        var reply = refusal is { } r ? StreamReply.Refused(r.Error, r.Reason) : StreamReply.Accepted();
        try
        {
            await stream.WriteAsync(SingleFrame.Encode(reply), completeWrites: true, _shutdown.Token);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The coordinator gave up on the offer; the requester hears about it from the coordinator.
        }

        await stream.DisposeAsync();
    }
}
