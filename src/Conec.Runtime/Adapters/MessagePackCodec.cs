using System.Buffers;
using Conec.Typed.Internal;
using MessagePack;

namespace Conec;

/// <summary>The one place the typed adapters call MessagePack, so every failure becomes the same clear error.</summary>
internal static class MessagePackCodec
{
    public static T Deserialize<T>(ReadOnlyMemory<byte> payload, MessagePackSerializerOptions options)
    {
        try
        {
            return MessagePackSerializer.Deserialize<T>(payload, options);
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw new ConecException(ConecError.MalformedMessage, $"A message could not be read as {typeof(T).Name}: {e.Message}", e);
        }
    }

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
