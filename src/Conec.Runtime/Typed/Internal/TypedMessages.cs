using System.Buffers;
using System.ComponentModel;
using MessagePack;

namespace Conec.Typed.Internal;

/// <summary>Helpers the generated code calls, so every contract reports malformed messages the same way.</summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TypedMessages
{
    // MessagePack's default limit, kept for the same reason: a peer must not be able to nest deep enough to overflow the stack.
    private const int MaximumDepth = 500;

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

    /// <summary>Reads a MessagePack binary (or nil) into a new array, as MessagePack's own byte[] formatter does.</summary>
    public static byte[]? ReadBytes(ref MessagePackReader reader) => reader.ReadBytes() is { } bytes ? bytes.ToArray() : null;

    /// <summary>Writes a <see cref="Guid"/> the way MessagePack's built-in formatter does: its 36-character "D" string.</summary>
    public static void WriteGuid(ref MessagePackWriter writer, Guid value)
    {
        const int length = 36;
        writer.WriteStringHeader(length);
        var text = writer.GetSpan(length);
        value.TryFormat(text, out _, "D");
        writer.Advance(length);
    }

    /// <summary>Reads a <see cref="Guid"/> written as its "D" string.</summary>
    public static Guid ReadGuid(ref MessagePackReader reader)
    {
        var text = reader.ReadString() ?? throw new ConecException(ConecError.MalformedMessage, "A Guid is nil.");
        return Guid.ParseExact(text, "D");
    }

    /// <summary>
    /// Enters an object or collection while reading; <see cref="LeaveNested"/> leaves it. Input nested deeper than
    /// MessagePack's default limit (500) is a malformed message rather than a stack overflow.
    /// </summary>
    public static void EnterNested(ref MessagePackReader reader)
    {
        if (++reader.Depth > MaximumDepth)
        {
            throw new ConecException(ConecError.MalformedMessage, $"A typed message nests deeper than {MaximumDepth} levels.");
        }
    }

    /// <summary>Leaves what <see cref="EnterNested"/> entered.</summary>
    public static void LeaveNested(ref MessagePackReader reader) => reader.Depth--;

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
    public static bool IsMalformed(Exception exception) => Adapters.MessagePackCodec.IsMalformed(exception);

    /// <summary>The error for a message that does not match its contract.</summary>
    public static ConecException Malformed(Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        return new ConecException(ConecError.MalformedMessage, $"A typed message does not match its contract: {cause.Message}", cause);
    }

    /// <summary>
    /// The error for a nil, or a missing key, where the contract declares a non-nullable reference;
    /// <paramref name="what"/> names the place (<c>ChatLine.Text</c>, <c>IChat.Say(line)</c>).
    /// </summary>
    public static ConecException MissingValue(string what) =>
        new(ConecError.MalformedMessage, $"A typed message has no value for {what}, which is not nullable.");

    /// <summary>
    /// The error a server sends back for a call to a method id its contract does not have: the caller gets
    /// <see cref="ConecError.UnknownMethod"/>, and the stream serves on.
    /// </summary>
    public static ConecException UnknownCall(string contract, int methodId) =>
        new(ConecError.UnknownMethod, $"{contract} on the server has no method with id {methodId}; the peers use different versions of the contract.");

    /// <summary>The error for a one-way message with a method id the contract does not have.</summary>
    public static ConecException UnknownMethod(string contract, int methodId) =>
        new(ConecError.MalformedMessage, $"{contract} has no method with id {methodId}; the peer uses another version of the contract.");
}
