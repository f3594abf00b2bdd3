using System.Buffers;
using MessagePack;

namespace Conec.Adapters;

/// <summary>The one place the typed adapters call MessagePack, so every failure becomes the same clear error.</summary>
internal static class MessagePackCodec
{
    public static T Deserialize<T>(ReadOnlyMemory<byte> payload, MessagePackSerializerOptions options)
    {
        try
        {
            return MessagePackSerializer.Deserialize<T>(payload, options);
        }
        catch (Exception e) when (IsMalformed(e))
        {
            throw new ConecException(ConecError.MalformedMessage, $"A message could not be read as {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is how MessagePack reports bytes that do not decode: a format error, input
    /// that ends early, or a number that does not fit the declared type.
    /// </summary>
    public static bool IsMalformed(Exception exception) =>
        exception is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException or FormatException;

    public static void Serialize<T>(IBufferWriter<byte> destination, T value, MessagePackSerializerOptions options)
    {
        try
        {
            MessagePackSerializer.Serialize(destination, value, options);
        }
        catch (MessagePackSerializationException e)
        {
            throw new ConecException(ConecError.MalformedMessage, $"A {typeof(T).Name} could not be written as MessagePack: {e.Message}", e);
        }
    }
}
