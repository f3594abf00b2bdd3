using System.Buffers;
using System.Net;
using MessagePack;

namespace Conec.Protocol;

/// <summary>
/// One decoded control message: <c>[tag, fields…]</c> as a MessagePack array. Fields a newer peer appends are
/// skipped, so a later protocol version can add fields without breaking this one.
/// </summary>
internal readonly record struct ControlMessage(ControlTag Tag, string? Text = null, int Number = 0, int ListenPort = 0)
{
    /// <summary>At most this many own addresses travel in a hello; more would only slow every peer's attempts.</summary>
    public const int MaxLocalAddresses = 8;

    /// <summary>
    /// Hello: the client's TCP connection to the coordinator leaves from <see cref="ListenPort"/>, where its direct
    /// listener also accepts, so the port the coordinator observes (through a NAT that keeps a mapping per source
    /// port) leads to that listener and peers can punch through to it.
    /// </summary>
    public bool SharesPort { get; init; }

    /// <summary>Hello: the client's own addresses (its side of the coordinator connection), for peers behind the same NAT.</summary>
    public IReadOnlyList<IPAddress> LocalAddresses { get; init; } = [];

    /// <summary>The hello: <paramref name="listenPort"/> is where the client accepts direct channels (0: it does not).</summary>
    public static ControlMessage Hello(string id, int version, int listenPort = 0) => new(ControlTag.Hello, id, version, listenPort);

    public static ControlMessage HelloAccepted() => new(ControlTag.HelloAccepted);

    /// <summary>Equal when every field is, the own addresses compared one by one (a list compares by reference).</summary>
    public bool Equals(ControlMessage other) =>
        Tag == other.Tag && Text == other.Text && Number == other.Number && ListenPort == other.ListenPort && SharesPort == other.SharesPort
        && LocalAddresses.SequenceEqual(other.LocalAddresses);

    public override int GetHashCode() => HashCode.Combine(Tag, Text, Number, ListenPort, SharesPort, LocalAddresses.Count);

    public static ControlMessage HelloRefused(ConecError error, string reason) => new(ControlTag.HelloRefused, reason, (int)error);

    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        switch (Tag)
        {
            case ControlTag.Hello:
                writer.WriteArrayHeader(6);
                writer.Write((int)Tag);
                writer.Write(Text);
                writer.Write(Number);
                writer.Write(ListenPort);
                writer.Write(SharesPort);
                writer.WriteArrayHeader(LocalAddresses.Count);
                foreach (var address in LocalAddresses)
                {
                    writer.Write(address.ToString());
                }

                break;
            case ControlTag.HelloAccepted:
                writer.WriteArrayHeader(1);
                writer.Write((int)Tag);
                break;
            case ControlTag.HelloRefused:
                writer.WriteArrayHeader(3);
                writer.Write((int)Tag);
                writer.Write(Number);
                writer.Write(Text);
                break;
            default:
                throw new InvalidOperationException($"No encoding for control tag {Tag}.");
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="ConecException"><see cref="ConecError.ProtocolViolation"/> for malformed input or an unknown tag.</exception>
    public static ControlMessage Decode(ReadOnlySequence<byte> bytes)
    {
        try
        {
            var reader = new MessagePackReader(bytes);
            var count = reader.ReadArrayHeader();
            if (count < 1)
            {
                throw WireFormatException.Malformed("control message (empty array)");
            }

            var tag = reader.ReadInt32();
            var message = (ControlTag)tag switch
            {
                ControlTag.Hello when count >= 3 => Hello(ReadString(ref reader), reader.ReadInt32(), count >= 4 ? reader.ReadUInt16() : 0) with
                {
                    SharesPort = count >= 5 && reader.ReadBoolean(),
                    LocalAddresses = count >= 6 ? ReadAddresses(ref reader) : [],
                },
                ControlTag.HelloAccepted => HelloAccepted(),
                ControlTag.HelloRefused when count >= 3 => new ControlMessage(ControlTag.HelloRefused, Number: reader.ReadInt32(), Text: ReadString(ref reader)),
                ControlTag.Hello or ControlTag.HelloRefused => throw WireFormatException.Malformed($"control message {(ControlTag)tag} ({count} fields)"),
                _ => throw new ConecException(ConecError.ProtocolViolation, $"Unknown control message tag {tag}."),
            };
            return message;
        }
        catch (Exception e) when (WireFormatException.IsMalformed(e) || e is FormatException)
        {
            throw WireFormatException.Malformed("control message", e);
        }
    }

    private static IPAddress[] ReadAddresses(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        if (count > MaxLocalAddresses)
        {
            throw WireFormatException.Malformed($"hello ({count} own addresses, at most {MaxLocalAddresses})");
        }

        var addresses = new IPAddress[count];
        for (var i = 0; i < count; i++)
        {
            addresses[i] = IPAddress.Parse(ReadString(ref reader));
        }

        return addresses;
    }

    /// <summary>Reads a non-null string; ids and reasons are never nil on the wire.</summary>
    internal static string ReadString(ref MessagePackReader reader) =>
        reader.ReadString() ?? throw WireFormatException.Malformed("message (nil where a string belongs)");
}
