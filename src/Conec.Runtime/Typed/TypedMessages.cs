using System.Buffers;
using MessagePack;

namespace Conec;

/// <summary>Helpers the generated code calls, so every contract reports malformed messages the same way.</summary>
public static class TypedMessages
{
    /// <summary>The options generated code uses when none are given: MessagePack's standard resolver.</summary>
    public static MessagePackSerializerOptions DefaultOptions => MessagePackSerializer.DefaultOptions;

    /// <summary>Starts a message: an array of <paramref name="fields"/> entries whose first is <paramref name="methodId"/>.</summary>
    public static MessagePackWriter Begin(ArrayBufferWriter<byte> buffer, int methodId, int fields)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        buffer.ResetWrittenCount();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(fields);
        writer.Write(methodId);
        return writer;
    }

    /// <summary>Starts reading a message: returns the method id and leaves the reader on the first argument.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedMessage"/> when the message is not an array starting with an id.</exception>
    public static int ReadMethodId(ref MessagePackReader reader, out int arguments)
    {
        try
        {
            arguments = reader.ReadArrayHeader() - 1;
            return arguments >= 0 ? reader.ReadInt32() : throw new ConecException(ConecError.MalformedMessage, "A typed message is an empty array.");
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw Malformed(e);
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is how MessagePack reports bytes that do not decode: a format error, input
    /// that ends early, or a number that does not fit the declared type.
    /// </summary>
    public static bool IsMalformed(Exception exception) =>
        exception is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException;

    /// <summary>The error for a message that does not match its contract.</summary>
    public static ConecException Malformed(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return new ConecException(ConecError.MalformedMessage, $"A typed message does not match its contract: {cause.Message}", cause);
    }

    /// <summary>The error for a method id the contract does not have.</summary>
    public static ConecException UnknownMethod(string contract, int methodId) =>
        new(ConecError.MalformedMessage, $"{contract} has no method with id {methodId}; the peer uses another version of the contract.");
}
