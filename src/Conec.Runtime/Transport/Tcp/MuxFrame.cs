using System.Buffers.Binary;

namespace Conec.Transport.Tcp;

/// <summary>
/// The multiplexer's frame header: type (1 byte), flags (1), stream id (u32 big-endian), body length (u32
/// big-endian). Stream id 0 addresses the connection.
/// </summary>
internal readonly record struct MuxFrame(MuxFrameType Type, byte Flags, uint StreamId, int Length)
{
    public const int HeaderSize = 10;

    /// <summary>FIN on <see cref="MuxFrameType.Data"/>, ACK on <see cref="MuxFrameType.Ping"/>, TRANSPORT on <see cref="MuxFrameType.Close"/>.</summary>
    public const byte Flag = 1;

    /// <summary>
    /// IDLE on <see cref="MuxFrameType.Close"/>: the sender closed because its idle timeout expired, so the receiver
    /// reports <see cref="ConecError.ConnectionIdle"/> as a QUIC peer would (its idle timer ends the connection too).
    /// </summary>
    public const byte IdleFlag = 2;

    /// <summary>
    /// REFUSED on <see cref="MuxFrameType.Close"/>: the server refused this client right after the TLS handshake; the
    /// reason says why. Code <see cref="TransportCodes.CloseCoordinatorFull"/>: it admits no more connections, and the
    /// client reports <see cref="ConecError.CoordinatorFull"/>; any other code: it refused the client's certificate
    /// (<see cref="ConecError.HandshakeFailed"/>).
    /// </summary>
    public const byte RefusedFlag = 4;

    /// <summary>
    /// The largest data body a sender writes. 32 KiB keeps per-frame overhead under 0.05% while letting streams
    /// take turns on the connection at a fine grain.
    /// </summary>
    public const int MaxDataChunk = 32 * 1024;

    /// <summary>The largest body a receiver accepts; anything longer is a protocol violation, refused before buffering.</summary>
    public const int MaxBody = 64 * 1024;

    /// <summary>Close reasons longer than this are cut, so a close frame stays small.</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>A whole CLOSE frame: header, then the code (i64 big-endian) and the reason in UTF-8, cut to <see cref="MaxReasonBytes"/>.</summary>
    public static byte[] EncodeClose(long code, string reason, byte flags)
    {
        var reasonBytes = System.Text.Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(reasonBytes.Length, MaxReasonBytes);
        var frame = new byte[HeaderSize + 8 + length];
        WriteHeader(frame, MuxFrameType.Close, flags, 0, 8 + length);
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(HeaderSize), code);
        reasonBytes.AsSpan(0, length).CopyTo(frame.AsSpan(HeaderSize + 8));
        return frame;
    }

    public static void WriteHeader(Span<byte> destination, MuxFrameType type, byte flags, uint streamId, int length)
    {
        destination[0] = (byte)type;
        destination[1] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], streamId);
        BinaryPrimitives.WriteInt32BigEndian(destination[6..], length);
    }

    public static MuxFrame ReadHeader(ReadOnlySpan<byte> source) => new(
        (MuxFrameType)source[0],
        source[1],
        BinaryPrimitives.ReadUInt32BigEndian(source[2..]),
        (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(source[6..]), int.MaxValue));
}
