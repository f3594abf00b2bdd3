using System.Buffers;
using System.Net;
using Conec.Streams;
using MessagePack;

namespace Conec.Protocol;

/// <summary>What a stream between two nodes of a cluster is for: the first element of its header. Values are wire constants.</summary>
internal enum LinkStreamKind
{
    /// <summary><c>[17, from, to, sid, traceparent?]</c>: relay client <c>from</c>'s proxied stream to client <c>to</c>.</summary>
    Relay = 17,

    /// <summary><c>[18, to, sid|nil]</c>: a coordinator stream to client <c>to</c>; nil lets the receiving node choose the id.</summary>
    FromCoordinator = 18,

    /// <summary><c>[19, from, to, sid, certificate, address, port]</c>: offer client <c>to</c> a direct channel from <c>from</c>.</summary>
    ChannelOffer = 19,

    /// <summary>
    /// <c>[20, name, from incarnation, to incarnation]</c>: join the receiving node's channel <c>name</c> (its life
    /// <c>to</c>) with the opener's (its life <c>from</c>); each side then sends the messages its own members sent.
    /// </summary>
    Broadcast = 20,
}

/// <summary>
/// The messages of a link between two nodes (docs/protocol.md, "Links"): the link hello on its control stream,
/// and the header each link stream starts with. Replies are the clients' own (<see cref="StreamReply"/>,
/// <see cref="ControlMessage.HelloAccepted"/>, <see cref="ControlMessage.HelloRefused"/>).
/// </summary>
internal sealed record LinkMessage(LinkStreamKind Kind, string From, string To, ulong? StreamId)
{
    /// <summary>The link hello's tag: <c>[16, nodeId, version]</c>, the dialling node's first message.</summary>
    public const int HelloTag = 16;

    public string? TraceParent { get; init; }

    /// <summary>Broadcast links: the opener's channel life (<see cref="StreamId"/> carries the receiver's).</summary>
    public long Incarnation { get; init; }

    /// <summary>Channel offers: the DER certificate the initiator presented to its coordinator.</summary>
    public byte[]? Certificate { get; init; }

    /// <summary>Channel offers: the initiator's address as its coordinator sees it.</summary>
    public IPEndPoint? EndPoint { get; init; }

    public static byte[] EncodeHello(string nodeId, int version)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(HelloTag);
        writer.Write(nodeId);
        writer.Write(version);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="ConecException"><see cref="ConecError.ProtocolViolation"/> for anything but a link hello.</exception>
    public static (string NodeId, int Version) DecodeHello(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            if (count < 3 || reader.ReadInt32() != HelloTag)
            {
                throw WireFormatException.Malformed("link hello");
            }

            return (ControlMessage.ReadString(ref reader), reader.ReadInt32());
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e))
        {
            throw WireFormatException.Malformed("link hello", e);
        }
    }

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(Certificate is null ? 128 : Certificate.Length + 128);
        var writer = new MessagePackWriter(buffer);
        switch (Kind)
        {
            case LinkStreamKind.Relay:
                writer.WriteArrayHeader(TraceParent is null ? 4 : 5);
                WriteCommon(ref writer);
                if (TraceParent is not null)
                {
                    writer.Write(TraceParent);
                }

                break;
            case LinkStreamKind.Broadcast:
                writer.WriteArrayHeader(4);
                writer.Write((int)Kind);
                writer.Write(To);
                writer.Write(Incarnation);
                writer.Write(StreamId!.Value);
                break;
            case LinkStreamKind.FromCoordinator:
                writer.WriteArrayHeader(3);
                writer.Write((int)Kind);
                writer.Write(To);
                if (StreamId is { } id)
                {
                    writer.Write(id);
                }
                else
                {
                    writer.WriteNil();
                }

                break;
            default:
                writer.WriteArrayHeader(7);
                WriteCommon(ref writer);
                writer.Write(Certificate);
                writer.Write(EndPoint!.Address.ToString());
                writer.Write(EndPoint.Port);
                break;
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a link stream's header within <paramref name="timeout"/>, as <see cref="StreamHeader.ReadAsync"/> does for clients.</summary>
    public static async ValueTask<LinkMessage> ReadAsync(Transport.TransportStream stream, TimeSpan timeout, CancellationToken shutdown)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        deadline.CancelAfter(timeout);
        try
        {
            var bytes = await SingleFrame.ReadAsync(stream.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "the link stream ended before its header");
            return Decode(new ReadOnlySequence<byte>(bytes));
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            throw new ConecException(ConecError.Timeout, $"no link header arrived within {timeout.TotalSeconds:0.###} s");
        }
    }

    /// <exception cref="ConecException"><see cref="ConecError.ProtocolViolation"/> for malformed input or an unknown kind.</exception>
    public static LinkMessage Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            var kind = count >= 3 ? (LinkStreamKind)reader.ReadInt32() : throw WireFormatException.Malformed($"link header ({count} fields)");
            switch (kind)
            {
                case LinkStreamKind.FromCoordinator:
                    var to = ControlMessage.ReadString(ref reader);
                    ulong? id = reader.TryReadNil() ? null : reader.ReadUInt64();
                    return new LinkMessage(kind, "", to, id);
                case LinkStreamKind.Broadcast when count >= 4:
                    var name = ControlMessage.ReadString(ref reader);
                    var from = reader.ReadInt64();
                    return new LinkMessage(kind, "", name, reader.ReadUInt64()) { Incarnation = from };
                case LinkStreamKind.Relay when count >= 4:
                    var relay = ReadCommon(kind, ref reader);
                    return count >= 5 ? relay with { TraceParent = ControlMessage.ReadString(ref reader) } : relay;
                case LinkStreamKind.ChannelOffer when count >= 7:
                    return ReadCommon(kind, ref reader) with
                    {
                        Certificate = StreamHeader.ReadBytes(ref reader),
                        EndPoint = new IPEndPoint(IPAddress.Parse(ControlMessage.ReadString(ref reader)), reader.ReadUInt16()),
                    };
                default:
                    throw new ConecException(ConecError.ProtocolViolation, $"Unknown link header kind {(int)kind} with {count} fields.");
            }
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e) || e is FormatException)
        {
            throw WireFormatException.Malformed("link header", e);
        }
    }

    private void WriteCommon(ref MessagePackWriter writer)
    {
        writer.Write((int)Kind);
        writer.Write(From);
        writer.Write(To);
        writer.Write(StreamId!.Value);
    }

    private static LinkMessage ReadCommon(LinkStreamKind kind, ref MessagePackReader reader) =>
        new(kind, ControlMessage.ReadString(ref reader), ControlMessage.ReadString(ref reader), reader.ReadUInt64());
}
