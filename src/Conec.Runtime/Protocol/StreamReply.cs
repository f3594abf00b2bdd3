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

    /// <summary>Returns <see langword="null"/> when accepted, else the refusal as an exception to throw.</summary>
    public static ConecException? Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            var code = count >= 1 ? reader.ReadInt32() : throw WireFormatException.Malformed("stream reply (empty array)");
            if (code == 0)
            {
                return null;
            }

            var reason = count >= 2 ? ControlMessage.ReadString(ref reader) : "no reason given";
            var error = Enum.IsDefined((ConecError)code) ? (ConecError)code : ConecError.ProtocolViolation;
            return new ConecException(error, reason);
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e))
        {
            throw WireFormatException.Malformed("stream reply", e);
        }
    }
}
