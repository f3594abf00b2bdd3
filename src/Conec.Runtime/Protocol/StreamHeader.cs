using System.Buffers;
using MessagePack;

namespace Conec.Protocol;

/// <summary>The first frame of every data stream: who or what it is for, and the opener's stream id.</summary>
internal readonly record struct StreamHeader(StreamHeaderKind Kind, string? Peer, ulong StreamId)
{
    private static bool HasPeer(StreamHeaderKind kind) => kind is StreamHeaderKind.ToPeer or StreamHeaderKind.FromPeer;

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        var withPeer = HasPeer(Kind);
        writer.WriteArrayHeader(withPeer ? 3 : 2);
        writer.Write((int)Kind);
        if (withPeer)
        {
            writer.Write(Peer);
        }

        writer.Write(StreamId);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="ConecException"><see cref="ConecError.ProtocolViolation"/> for malformed input or an unknown kind.</exception>
    public static StreamHeader Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            if (count < 2)
            {
                throw WireFormatException.Malformed($"stream header ({count} fields)");
            }

            var kind = (StreamHeaderKind)reader.ReadInt32();
            if (!Enum.IsDefined(kind))
            {
                throw new ConecException(ConecError.ProtocolViolation, $"Unknown stream header kind {(int)kind}.");
            }

            string? peer = null;
            if (HasPeer(kind))
            {
                if (count < 3)
                {
                    throw WireFormatException.Malformed($"{kind} stream header ({count} fields)");
                }

                peer = ControlMessage.ReadString(ref reader);
            }

            return new StreamHeader(kind, peer, reader.ReadUInt64());
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e))
        {
            throw WireFormatException.Malformed("stream header", e);
        }
    }
}
