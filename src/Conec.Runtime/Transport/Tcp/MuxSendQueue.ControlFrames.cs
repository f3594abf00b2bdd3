using System.Buffers.Binary;

namespace Conec.Transport.Tcp;

/// <summary>The send queue's control frames, and the lane each goes to.</summary>
internal sealed partial class MuxSendQueue
{
    private static readonly byte[] KeepAlivePayload = new byte[8];

    private enum Lane
    {
        Urgent,
        Bulk,

        /// <summary>The lane of the stream's waiting data, so the frame stays behind it.</summary>
        StreamsOwn,
    }

    // A stream's own frames keep its lane, behind its data; frames about receiving, and the connection's, are urgent.
    public void SendFin(MuxStream stream) => Append(Lane.StreamsOwn, MuxFrameType.Data, MuxFrame.Flag, stream, 0, ReadOnlySpan<byte>.Empty);

    public void SendResetStream(MuxStream stream, long code) => AppendCode(Lane.StreamsOwn, MuxFrameType.ResetStream, stream, code);

    public void SendStopSending(MuxStream stream, long code) => AppendCode(Lane.Urgent, MuxFrameType.StopSending, stream, code);

    public void SendMaxStreamData(MuxStream stream, long limit) => AppendCode(Lane.Urgent, MuxFrameType.MaxStreamData, stream, limit);

    public void SendMaxData(long limit) => AppendCode(Lane.Urgent, MuxFrameType.MaxData, null, limit);

    public void SendMaxStreams(long limit)
    {
        Span<byte> body = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(body, (uint)Math.Min(limit, uint.MaxValue));
        Append(Lane.Urgent, MuxFrameType.MaxStreams, 0, null, 0, body);
    }

    public void SendSettings(TransportSettings settings)
    {
        Span<byte> body = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(body, settings.StreamReceiveWindow);
        BinaryPrimitives.WriteInt64BigEndian(body[4..], settings.ConnectionReceiveWindow);
        BinaryPrimitives.WriteInt32BigEndian(body[12..], settings.MaxInboundStreams);
        Append(Lane.Urgent, MuxFrameType.Settings, 0, null, 0, body);
    }

    public void SendPing(byte flags, ReadOnlySpan<byte> payload) => Append(Lane.Urgent, MuxFrameType.Ping, flags, null, 0, payload);

    public void SendKeepAlive() => SendPing(0, KeepAlivePayload);

    // CLOSE goes last, behind everything already queued: the bulk lane is sent after the urgent one.
    public void SendClose(long code, string reason, byte flags) =>
        Append(Lane.Bulk, MuxFrameType.Close, flags, null, 0, MuxFrame.EncodeClose(code, reason, flags).AsSpan(MuxFrame.HeaderSize));

    private void AppendCode(Lane lane, MuxFrameType type, MuxStream? stream, long value)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(body, value);
        Append(lane, type, 0, stream, 0, body);
    }

    /// <summary>Appends one frame and wakes the writer loop; nothing is appended once the queue is closed.</summary>
    private void Append(Lane lane, MuxFrameType type, byte flags, MuxStream? stream, uint connectionFrame, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            body.CopyTo(AppendLocked(ResolveLocked(lane, stream), type, flags, stream, connectionFrame, body.Length));
            WakeWriterLocked();
        }
    }

    private MuxSendLane ResolveLocked(Lane lane, MuxStream? stream) => lane switch
    {
        Lane.Urgent => _urgent,
        Lane.Bulk => _bulk,
        _ => stream is not null && stream.Lane.Generation == _generation && stream.Lane.InBulk ? _bulk : _urgent,
    };
}
