using System.Buffers;
using MessagePack;

namespace Conec;

/// <summary>
/// The RPC messages on one bidirectional stream (docs/protocol.md, "Typed streams"): requests, cancellations,
/// results, errors and one-way notifications, each one MessagePack array.
/// </summary>
internal static class RpcFrame
{
    public const int Request = 0;
    public const int Cancel = 1;
    public const int Result = 2;
    public const int Error = 3;
    public const int Notify = 4;
    public const int Item = 5;

    /// <summary><c>[0, callId, methodId, arguments]</c> or, for a notification, <c>[4, methodId, arguments]</c>.</summary>
    public static void WriteCall(IBufferWriter<byte> buffer, long callId, int methodId, ReadOnlyMemory<byte> arguments, bool notify, string? traceParent = null)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader((notify ? 3 : 4) + (traceParent is null ? 0 : 1));
        writer.Write(notify ? Notify : Request);
        if (!notify)
        {
            writer.Write(callId);
        }

        writer.Write(methodId);
        writer.WriteRaw(arguments.Span);
        if (traceParent is not null)
        {
            // The caller's W3C trace context, so the server's activity joins the caller's trace.
            writer.Write(traceParent);
        }

        writer.Flush();
    }

    public static void WriteCancel(IBufferWriter<byte> buffer, long callId)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(Cancel);
        writer.Write(callId);
        writer.Flush();
    }

    public static void WriteResult(IBufferWriter<byte> buffer, long callId, ReadOnlyMemory<byte> value)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(Result);
        writer.Write(callId);
        writer.WriteRaw(value.Span);
        writer.Flush();
    }

    /// <summary><c>[5, callId, value]</c>: one item of a streamed result; the stream ends with a result or an error.</summary>
    public static void WriteItem(IBufferWriter<byte> buffer, long callId, ReadOnlyMemory<byte> value)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(Item);
        writer.Write(callId);
        writer.WriteRaw(value.Span);
        writer.Flush();
    }

    public static void WriteError(IBufferWriter<byte> buffer, long callId, string type, string message)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(4);
        writer.Write(Error);
        writer.Write(callId);
        writer.Write(type);
        writer.Write(message);
        writer.Flush();
    }

    /// <summary>The parts of a received RPC message; <see cref="Rest"/> is what follows the kind and id.</summary>
    public readonly record struct Parsed(int Kind, long CallId, int MethodId, ReadOnlyMemory<byte> Rest, string? TraceParent = null);

    /// <exception cref="ConecException"><see cref="ConecError.MalformedMessage"/> when the message is not an RPC message.</exception>
    public static Parsed Parse(ReadOnlyMemory<byte> message)
    {
        try
        {
            var reader = new MessagePackReader(message);
            var count = reader.ReadArrayHeader();
            var kind = reader.ReadInt32();
            long callId = 0;
            var methodId = 0;
            switch (kind)
            {
                case Request when count is 4 or 5:
                    callId = reader.ReadInt64();
                    methodId = reader.ReadInt32();
                    return WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count == 5);
                case Notify when count is 3 or 4:
                    methodId = reader.ReadInt32();
                    return WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count == 4);
                case Cancel or Result or Error or Item when count >= 2:
                    callId = reader.ReadInt64();
                    break;
                default:
                    throw new ConecException(ConecError.MalformedMessage, $"RPC message kind {kind} with {count} fields is not understood.");
            }

            return new Parsed(kind, callId, methodId, message[(int)reader.Consumed..]);
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw new ConecException(ConecError.MalformedMessage, $"A malformed RPC message arrived: {e.Message}", e);
        }
    }

    /// <summary>Cuts the arguments out of the message and reads the trace context after them, if present.</summary>
    private static Parsed WithTrace(ReadOnlyMemory<byte> message, ref MessagePackReader reader, Parsed parsed, bool traced)
    {
        var start = (int)reader.Consumed;
        reader.Skip();
        var arguments = message[start..(int)reader.Consumed];
        return parsed with { Rest = arguments, TraceParent = traced ? reader.ReadString() : null };
    }

    /// <summary>Reads the type and message of an error's <see cref="Parsed.Rest"/>.</summary>
    public static ConecRemoteException ReadError(ReadOnlyMemory<byte> rest)
    {
        try
        {
            var reader = new MessagePackReader(rest);
            return new ConecRemoteException(reader.ReadString() ?? "System.Exception", reader.ReadString() ?? "");
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw new ConecException(ConecError.MalformedMessage, $"A malformed RPC error arrived: {e.Message}", e);
        }
    }
}
