using System.Buffers;
using MessagePack;

namespace Conec.Protocol;

/// <summary>
/// The coordinator's answer on a stream a client opened: <c>[0]</c> accepted, or <c>[error, text]</c> refused
/// (error is a <see cref="ConecError"/> value). Answering on the stream itself ties the reply to its request by
/// construction, so no reply can be unknown or stale, and a dead connection fails the waiting opener at once.
/// </summary>
internal static class StreamReply
{
    public static byte[] Accepted() => [0x91, 0x00];

    public static byte[] Refused(ConecError error, string reason)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write((int)error);
        writer.Write(reason);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>[0, senders, receivers]</c>: the answer to a broadcast count.</summary>
    public static byte[] Count(int senders, int receivers)
    {
        var buffer = new ArrayBufferWriter<byte>(16);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(0);
        writer.Write(senders);
        writer.Write(receivers);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>[0, address, port, certificate, punch, candidates]</c>: where the target of a direct channel listens, who it
    /// is, whether both sides open at once (hole punching), and every address where the target may be reached.
    /// </summary>
    public static byte[] Channel(ChannelRoute route)
    {
        var buffer = new ArrayBufferWriter<byte>(route.Certificate.Length + 128);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(6);
        writer.Write(0);
        writer.Write(route.EndPoint.Address.ToString());
        writer.Write(route.EndPoint.Port);
        writer.Write(route.Certificate);
        writer.Write(route.Punch);
        EndPointList.Write(ref writer, route.Candidates);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Returns <see langword="null"/> when accepted, else the refusal as an exception to throw.</summary>
    public static ConecException? Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            return ReadStatus(ref reader, out _);
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e))
        {
            throw WireFormatException.Malformed("stream reply", e);
        }
    }

    /// <exception cref="ConecException">The refusal, or <see cref="ConecError.ProtocolViolation"/> when malformed.</exception>
    public static (int Senders, int Receivers) DecodeCount(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var refusal = ReadStatus(ref reader, out var count);
            return refusal is not null ? throw refusal
                : count < 3 ? throw WireFormatException.Malformed("count reply")
                : (reader.ReadInt32(), reader.ReadInt32());
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e))
        {
            throw WireFormatException.Malformed("count reply", e);
        }
    }

    /// <exception cref="ConecException">The refusal, or <see cref="ConecError.ProtocolViolation"/> when malformed.</exception>
    public static ChannelRoute DecodeChannel(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var refusal = ReadStatus(ref reader, out var count);
            if (refusal is not null)
            {
                throw refusal;
            }

            if (count < 4)
            {
                throw WireFormatException.Malformed("channel reply");
            }

            var address = System.Net.IPAddress.Parse(ControlMessage.ReadString(ref reader));
            var endPoint = new System.Net.IPEndPoint(address, reader.ReadUInt16());
            var certificate = StreamHeader.ReadBytes(ref reader);
            var punch = count >= 5 && reader.ReadBoolean();
            var candidates = count >= 6 ? EndPointList.Read(ref reader) : [];
            return new ChannelRoute(endPoint, certificate, punch, candidates);
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e) || e is FormatException)
        {
            throw WireFormatException.Malformed("channel reply", e);
        }
    }

    private static ConecException? ReadStatus(ref MessagePackReader reader, out int count)
    {
        count = reader.ReadArrayHeader();
        var code = count >= 1 ? reader.ReadInt32() : throw WireFormatException.Malformed("stream reply (empty array)");
        if (code == 0)
        {
            return null;
        }

        var reason = count >= 2 ? ControlMessage.ReadString(ref reader) : "no reason given";
        var error = Enum.IsDefined((ConecError)code) ? (ConecError)code : ConecError.ProtocolViolation;
        return new ConecException(error, reason);
    }
}
