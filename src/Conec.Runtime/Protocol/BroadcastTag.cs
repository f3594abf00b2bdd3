using System.Buffers.Binary;
using System.Text;
using Conec.Streams;

namespace Conec.Protocol;

/// <summary>
/// The sender tag on every broadcast message (conec-reference §3.4): <c>payload ‖ id ‖ be32(len(id))</c>, parsed from
/// the end. A trailer of <c>0xFFFFFFFF</c> (no id is that long) marks a loss notice instead: its 8-byte big-endian
/// body is the number of messages the coordinator dropped for this receiver just before the next message.
/// </summary>
internal static class BroadcastTag
{
    public const int TrailerSize = 4;
    public const uint LossNoticeMarker = uint.MaxValue;

    /// <summary>Bytes the tag adds to a payload from <paramref name="idBytes"/>.</summary>
    public static int Overhead(int idBytes) => idBytes + TrailerSize;

    /// <summary>Writes <c>frame length ‖ payload ‖ id ‖ be32(len(id))</c>; the frame length covers payload and tag.</summary>
    public static void WriteTaggedFrame(Span<byte> destination, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> id)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(payload.Length + id.Length + TrailerSize));
        payload.CopyTo(destination[FrameLimits.HeaderSize..]);
        id.CopyTo(destination[(FrameLimits.HeaderSize + payload.Length)..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(FrameLimits.HeaderSize + payload.Length + id.Length)..], (uint)id.Length);
    }

    /// <summary>Bytes of a whole loss-notice frame, length prefix included.</summary>
    public const int LossNoticeFrameSize = FrameLimits.HeaderSize + 8 + TrailerSize;

    /// <summary>A whole frame (length prefix included) announcing <paramref name="lost"/> dropped messages.</summary>
    public static byte[] LossNoticeFrame(long lost)
    {
        var frame = new byte[FrameLimits.HeaderSize + 8 + TrailerSize];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 8 + TrailerSize);
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(FrameLimits.HeaderSize), lost);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(FrameLimits.HeaderSize + 8), LossNoticeMarker);
        return frame;
    }

    /// <summary>
    /// Splits a received broadcast message into payload and sender id, or reports a loss notice
    /// (<paramref name="lost"/> &gt; 0, sender <see langword="null"/>).
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedTag"/> when the tag does not fit or the id is not UTF-8.</exception>
    public static ReadOnlyMemory<byte> Parse(ReadOnlyMemory<byte> message, bool decodeSender, out string? sender, out long lost) =>
        Parse(message, decodeSender ? new SenderIdCache() : null, out sender, out lost);

    /// <summary>As <see cref="Parse(ReadOnlyMemory{byte}, bool, out string?, out long)"/>, with sender ids from <paramref name="senders"/> (null: not decoded).</summary>
    public static ReadOnlyMemory<byte> Parse(ReadOnlyMemory<byte> message, SenderIdCache? senders, out string? sender, out long lost)
    {
        lost = 0;
        sender = null;
        var span = message.Span;
        if (span.Length < TrailerSize)
        {
            throw new ConecException(ConecError.MalformedTag, $"A broadcast message of {span.Length} bytes is too short for its 4-byte tag trailer.");
        }

        var idLength = BinaryPrimitives.ReadUInt32BigEndian(span[^TrailerSize..]);
        if (idLength == LossNoticeMarker)
        {
            lost = span.Length == 8 + TrailerSize ? BinaryPrimitives.ReadInt64BigEndian(span) : -1;
            return lost > 0 ? ReadOnlyMemory<byte>.Empty
                : throw new ConecException(ConecError.MalformedTag, "A broadcast loss notice is malformed.");
        }

        if (idLength > span.Length - TrailerSize)
        {
            throw new ConecException(ConecError.MalformedTag,
                $"A broadcast message of {span.Length} bytes claims a sender id of {idLength} bytes.");
        }

        var payloadLength = span.Length - TrailerSize - (int)idLength;
        sender = senders?.Get(span.Slice(payloadLength, (int)idLength));
        return message[..payloadLength];
    }
}
