using System.Buffers;
using Conec.Typed.Internal;
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
    public const int Credit = 6;

    /// <summary>
    /// <c>[0, callId, methodId, arguments, traceParent?, window?]</c> or, for a notification,
    /// <c>[4, methodId, arguments, traceParent?]</c>. A request with a <paramref name="window"/> asks for a streamed
    /// result under credit: the server sends items while the caller has granted bytes (see <see cref="WriteCredit"/>).
    /// </summary>
    public static void WriteCall(IBufferWriter<byte> buffer, long callId, int methodId, ReadOnlyMemory<byte> arguments, bool notify, string? traceParent = null, long window = 0)
    {
        var writer = new MessagePackWriter(buffer);
        var optional = window > 0 ? 2 : traceParent is null ? 0 : 1;
        writer.WriteArrayHeader((notify ? 3 : 4) + optional);
        writer.Write(notify ? Notify : Request);
        if (!notify)
        {
            writer.Write(callId);
        }

        writer.Write(methodId);
        writer.WriteRaw(arguments.Span);
        if (optional > 0)
        {
            // The caller's W3C trace context, so the server's activity joins the caller's trace.
            writer.Write(traceParent);
        }

        if (window > 0)
        {
            writer.Write(window);
        }

        writer.Flush();
    }

    /// <summary><c>[6, callId, bytes]</c>: the caller consumed this many bytes of a streamed result's items; the server may send as many more.</summary>
    public static void WriteCredit(IBufferWriter<byte> buffer, long callId, long bytes)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(3);
        writer.Write(Credit);
        writer.Write(callId);
        writer.Write(bytes);
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
    /// <see cref="Window"/> is a streamed call's initial credit in bytes (0: the caller grants none and takes every item), or a credit frame's grant.
    public readonly record struct Parsed(int Kind, long CallId, int MethodId, ReadOnlyMemory<byte> Rest, string? TraceParent = null, long Window = 0);

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
                case Request when count is >= 4 and <= 6:
                    callId = reader.ReadInt64();
                    methodId = reader.ReadInt32();
                    var request = WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count >= 5);
                    return count == 6 ? request with { Window = ReadWindow(ref reader) } : request;
                case Notify when count is 3 or 4:
                    methodId = reader.ReadInt32();
                    return WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count == 4);
                case Credit when count == 3:
                    callId = reader.ReadInt64();
                    return new Parsed(kind, callId, 0, default, Window: ReadWindow(ref reader));
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

    private static long ReadWindow(ref MessagePackReader reader)
    {
        var window = reader.ReadInt64();
        return window > 0 ? window : throw new ConecException(ConecError.MalformedMessage, $"An RPC credit of {window} bytes is not positive.");
    }

    /// <summary>Cuts the arguments out of the message and reads the trace context after them, if present (nil: none).</summary>
    private static Parsed WithTrace(ReadOnlyMemory<byte> message, ref MessagePackReader reader, Parsed parsed, bool traced)
    {
        var start = (int)reader.Consumed;
        reader.Skip();
        var arguments = message[start..(int)reader.Consumed];
        return parsed with { Rest = arguments, TraceParent = traced && !reader.TryReadNil() ? reader.ReadString() : null };
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
