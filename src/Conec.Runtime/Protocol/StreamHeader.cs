using System.Buffers;
using System.Net;
using Conec.Streams;
using MessagePack;

namespace Conec.Protocol;

/// <summary>
/// The first frame of every data stream: its kind, the peer or channel name it concerns, the opener's stream id,
/// and the fields its kind adds (broadcast policy and capacity; a channel offer's certificate and address).
/// </summary>
internal sealed record StreamHeader(StreamHeaderKind Kind, string? Name, ulong StreamId)
{
    /// <summary>Broadcast joins: the <see cref="SlowReceiverPolicy"/> value.</summary>
    public int Policy { get; init; }

    /// <summary>Broadcast joins: the receiver's queue capacity in messages.</summary>
    public int Capacity { get; init; }

    /// <summary>
    /// Broadcast counts: the asker's own memberships of the channel as the asker knows them. A leave travels as a
    /// transport signal on another stream, which QUIC may deliver after the count request; the asker's own word
    /// makes its leaves count at once on every transport.
    /// </summary>
    public IReadOnlyList<MemberState>? Members { get; init; }

    /// <summary>Relayed and direct streams: the opener's W3C trace context, carried so the receiver can join the trace.</summary>
    public string? TraceParent { get; init; }

    private static bool CanTrace(StreamHeaderKind kind) => kind is StreamHeaderKind.ToPeer or StreamHeaderKind.FromPeer or StreamHeaderKind.Direct;

    /// <summary>Channel offers: the DER certificate the initiator presented to the coordinator.</summary>
    public byte[]? Certificate { get; init; }

    /// <summary>Channel offers: the initiator's address as the coordinator sees it.</summary>
    public IPEndPoint? EndPoint { get; init; }

    /// <summary>
    /// Channel offers: both sides share their direct listener's port with their coordinator connection, so the
    /// target opens towards <see cref="Candidates"/> at once, simultaneously with the initiator (hole punching).
    /// </summary>
    public bool Punch { get; init; }

    /// <summary>Channel offers: where the initiator may be reached: its observed address and its own addresses.</summary>
    public IReadOnlyList<IPEndPoint> Candidates { get; init; } = [];

    private static bool HasName(StreamHeaderKind kind) => kind is not (StreamHeaderKind.ToCoordinator or StreamHeaderKind.FromCoordinator);

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        var fields = Kind switch
        {
            StreamHeaderKind.Broadcast => 5,
            StreamHeaderKind.ChannelOffer => 8,
            StreamHeaderKind.BroadcastCount when Members is not null => 4,
            _ when CanTrace(Kind) && TraceParent is not null => 4,
            _ when HasName(Kind) => 3,
            _ => 2,
        };
        writer.WriteArrayHeader(fields);
        writer.Write((int)Kind);
        if (HasName(Kind))
        {
            writer.Write(Name);
        }

        writer.Write(StreamId);
        if (CanTrace(Kind) && TraceParent is not null)
        {
            writer.Write(TraceParent);
        }
        else if (Kind == StreamHeaderKind.Broadcast)
        {
            writer.Write(Policy);
            writer.Write(Capacity);
        }
        else if (Kind == StreamHeaderKind.BroadcastCount && Members is not null)
        {
            writer.WriteArrayHeader(Members.Count);
            foreach (var member in Members)
            {
                writer.WriteArrayHeader(3);
                writer.Write(member.StreamId);
                writer.Write(member.Writing);
                writer.Write(member.Reading);
            }
        }
        else if (Kind == StreamHeaderKind.ChannelOffer)
        {
            writer.Write(Certificate);
            writer.Write(EndPoint!.Address.ToString());
            writer.Write(EndPoint.Port);
            writer.Write(Punch);
            EndPointList.Write(ref writer, Candidates);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads and decodes the header a stream must start with, within <paramref name="timeout"/>: a peer that opens
    /// streams and never finishes their headers holds nothing for longer than that.
    /// </summary>
    /// <exception cref="ConecException">
    /// <see cref="ConecError.Timeout"/> when no header arrived in time, <see cref="ConecError.ProtocolViolation"/> when
    /// the stream ended first or the header is malformed, or the stream's failure.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="shutdown"/> was cancelled.</exception>
    public static async ValueTask<StreamHeader> ReadAsync(Transport.TransportStream stream, TimeSpan timeout, CancellationToken shutdown)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        deadline.CancelAfter(timeout);
        try
        {
            var bytes = await SingleFrame.ReadAsync(stream.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "the stream ended before its header");
            return Decode(new ReadOnlySequence<byte>(bytes));
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            throw new ConecException(ConecError.Timeout, $"no header arrived within {timeout.TotalSeconds:0.###} s");
        }
    }

    /// <exception cref="ConecException"><see cref="ConecError.ProtocolViolation"/> for malformed input or an unknown kind.</exception>
    public static StreamHeader Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            var kind = count >= 2 ? (StreamHeaderKind)reader.ReadInt32() : throw WireFormatException.Malformed($"stream header ({count} fields)");
            if (!Enum.IsDefined(kind))
            {
                throw new ConecException(ConecError.ProtocolViolation, $"Unknown stream header kind {(int)kind}.");
            }

            var needed = kind switch { StreamHeaderKind.Broadcast => 5, StreamHeaderKind.ChannelOffer => 6, _ when HasName(kind) => 3, _ => 2 };
            if (count < needed)
            {
                throw WireFormatException.Malformed($"{kind} stream header ({count} fields, {needed} needed)");
            }

            var name = HasName(kind) ? ControlMessage.ReadString(ref reader) : null;
            var header = new StreamHeader(kind, name, reader.ReadUInt64());
            return kind switch
            {
                StreamHeaderKind.Broadcast => header with { Policy = reader.ReadInt32(), Capacity = reader.ReadInt32() },
                StreamHeaderKind.BroadcastCount when count >= 4 => header with { Members = ReadMembers(ref reader) },
                _ when CanTrace(kind) && count >= 4 => header with { TraceParent = reader.ReadString() },
                StreamHeaderKind.ChannelOffer => header with
                {
                    Certificate = ReadBytes(ref reader),
                    EndPoint = new IPEndPoint(IPAddress.Parse(ControlMessage.ReadString(ref reader)), reader.ReadUInt16()),
                    Punch = count >= 7 && reader.ReadBoolean(),
                    Candidates = count >= 8 ? EndPointList.Read(ref reader) : [],
                },
                _ => header,
            };
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e) || e is FormatException)
        {
            throw WireFormatException.Malformed("stream header", e);
        }
    }

    private static MemberState[] ReadMembers(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        if (count > 4096)
        {
            throw WireFormatException.Malformed($"count request ({count} memberships)");
        }

        var members = new MemberState[count];
        for (var i = 0; i < count; i++)
        {
            if (reader.ReadArrayHeader() != 3)
            {
                throw WireFormatException.Malformed("membership state");
            }

            members[i] = new MemberState(reader.ReadUInt64(), reader.ReadBoolean(), reader.ReadBoolean());
        }

        return members;
    }

    internal static byte[] ReadBytes(ref MessagePackReader reader) =>
        reader.ReadBytes()?.ToArray() ?? throw WireFormatException.Malformed("message (nil where bytes belong)");
}
