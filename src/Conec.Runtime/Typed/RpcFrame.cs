using System.Buffers;
using Conec.Typed.Internal;
using MessagePack;

namespace Conec;

/// <summary>
/// The RPC messages on one bidirectional stream (docs/generator.md, "Wire format"): requests, cancellations,
/// results, errors, one-way notifications, streamed items both ways and their credit, each one MessagePack array.
/// Readers accept more fields than they know and ignore them, so a later version can append fields.
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
    public const int End = 7;

    /// <summary>
    /// <c>[0, callId, methodId, arguments, traceParent?, window?, timeout?]</c> or, for a notification,
    /// <c>[4, methodId, arguments, traceParent?]</c>. A <paramref name="window"/> asks for items under credit (see
    /// <see cref="WriteCredit"/>); a <paramref name="timeoutMilliseconds"/> is the time left until the caller's
    /// deadline, as gRPC's grpc-timeout, so the server's clock need not agree with the caller's. Absent fields
    /// before a present one are nil.
    /// </summary>
    public static void WriteCall(IBufferWriter<byte> buffer, long callId, int methodId, ReadOnlyMemory<byte> arguments, bool notify, string? traceParent = null, long window = 0, long timeoutMilliseconds = 0)
    {
        var writer = new MessagePackWriter(buffer);
        var optional = notify ? (traceParent is null ? 0 : 1) : timeoutMilliseconds > 0 ? 3 : window > 0 ? 2 : traceParent is null ? 0 : 1;
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

        if (optional > 1)
        {
            WritePositiveOrNil(ref writer, window);
        }

        if (optional > 2)
        {
            writer.Write(timeoutMilliseconds);
        }

        writer.Flush();
    }

    private static void WritePositiveOrNil(ref MessagePackWriter writer, long value)
    {
        if (value > 0)
        {
            writer.Write(value);
        }
        else
        {
            writer.WriteNil();
        }
    }

    /// <summary><c>[7, callId]</c>: the caller's streamed argument is complete (its items went as <see cref="WriteItem"/>).</summary>
    public static void WriteEnd(IBufferWriter<byte> buffer, long callId)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(End);
        writer.Write(callId);
        writer.Flush();
    }

    /// <summary>
    /// <c>[6, callId, bytes]</c>: the receiver of a call's items consumed this many bytes; the sender may send as many
    /// more. The caller grants it for a streamed result, the server for a streamed argument.
    /// </summary>
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

    /// <summary>
    /// <c>[3, callId, type, message, error?]</c>: the call failed. <paramref name="error"/> is set when the failure is
    /// Conec's own (a deadline, an unknown method), so the caller raises a <see cref="ConecException"/> with it; an
    /// older caller reads the type and message only.
    /// </summary>
    public static void WriteError(IBufferWriter<byte> buffer, long callId, string type, string message, ConecError? error = null)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(error is null ? 4 : 5);
        writer.Write(Error);
        writer.Write(callId);
        writer.Write(type);
        writer.Write(message);
        if (error is { } code)
        {
            writer.Write((int)code);
        }

        writer.Flush();
    }

    /// <summary>The parts of a received RPC message; <see cref="Rest"/> is what follows the kind and id.</summary>
    /// <see cref="Window"/> is a streamed call's initial credit in bytes (0: the caller grants none and takes every item), or a credit frame's grant;
    /// <see cref="TimeoutMilliseconds"/> the time left to the caller's deadline (0: none).
    public readonly record struct Parsed(int Kind, long CallId, int MethodId, ReadOnlyMemory<byte> Rest, string? TraceParent = null, long Window = 0, long TimeoutMilliseconds = 0);

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
                case Request when count >= 4:
                    callId = reader.ReadInt64();
                    methodId = reader.ReadInt32();
                    var request = WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count >= 5);
                    return request with
                    {
                        Window = count >= 6 && !reader.TryReadNil() ? ReadWindow(ref reader) : 0,
                        TimeoutMilliseconds = count >= 7 && !reader.TryReadNil() ? ReadWindow(ref reader) : 0,
                    };
                case Notify when count >= 3:
                    methodId = reader.ReadInt32();
                    return WithTrace(message, ref reader, new Parsed(kind, callId, methodId, default), count >= 4);
                case Credit when count >= 3:
                    callId = reader.ReadInt64();
                    return new Parsed(kind, callId, 0, default, Window: ReadWindow(ref reader));
                case Cancel or Result or Error or Item or End when count >= 2:
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
        var value = reader.ReadInt64();
        return value > 0 ? value : throw new ConecException(ConecError.MalformedMessage, $"An RPC credit or timeout of {value} is not positive.");
    }

    /// <summary>Cuts the arguments out of the message and reads the trace context after them, if present (nil: none).</summary>
    private static Parsed WithTrace(ReadOnlyMemory<byte> message, ref MessagePackReader reader, Parsed parsed, bool traced)
    {
        var start = (int)reader.Consumed;
        reader.Skip();
        var arguments = message[start..(int)reader.Consumed];
        return parsed with { Rest = arguments, TraceParent = traced && !reader.TryReadNil() ? reader.ReadString() : null };
    }

    /// <summary>
    /// Reads an error's <see cref="Parsed.Rest"/>: a <see cref="ConecException"/> when it carries a Conec error, else
    /// the handler's exception as a <see cref="ConecRemoteException"/>.
    /// </summary>
    public static Exception ReadError(ReadOnlyMemory<byte> rest)
    {
        try
        {
            var reader = new MessagePackReader(rest);
            var type = reader.ReadString() ?? "System.Exception";
            var text = reader.ReadString() ?? "";
            return !reader.End && !reader.TryReadNil()
                ? new ConecException((ConecError)reader.ReadInt32(), text)
                : new ConecRemoteException(type, text);
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw new ConecException(ConecError.MalformedMessage, $"A malformed RPC error arrived: {e.Message}", e);
        }
    }
}
