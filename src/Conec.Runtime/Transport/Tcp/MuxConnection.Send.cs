using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Conec.Transport.Tcp;

/// <summary>The send half: frames are appended to a buffer under one lock and a single writer loop sends them.</summary>
internal sealed partial class MuxConnection
{
    // The most one call queues under the send lock: a large write (a relay forwarding a full window, say) is queued
    // in steps, so the writer loop encrypts the first step while the next is copied instead of waiting for all.
    private const int MaxQueuedPerLock = 64 * 1024;

    // The most data one TLS record carries; SslStream writes one record per this much.
    private const int MaxRecordData = 16 * 1024;

    // Guarded by _sendLock: the pending frames, whether the writer loop has them, and send credit.
    private readonly Lock _sendLock = new();
    private readonly SemaphoreSlim _sendReady = new(0, 1);
    private bool _writerBusy;

    // Where the last pending frame starts, when it is a DATA frame without FIN that may still grow (else -1), and its
    // stream: a write on the same stream that follows at once extends that frame instead of adding a header, so a
    // burst of small messages costs the receiver one frame rather than one per message.
    private int _openDataFrame = -1;
    private uint _openDataStream;
    private bool _sendClosed;
    private uint _nextLocalStreamId;
    private long _lastSent;
    private long _sendLimit;   // absolute connection offset the peer allows us to reach
    private long _sendOffset;  // connection bytes we have sent

    private static readonly byte[] KeepAlivePayload = new byte[8];

    internal void SendFin(MuxStream stream) => Append(MuxFrameType.Data, MuxFrame.Flag, stream, 0, ReadOnlySpan<byte>.Empty);

    /// <summary>
    /// Queues as much of <paramref name="data"/> as send credit allows, up to <see cref="MaxQueuedPerLock"/>, in
    /// data frames, and returns how much. Credit and the queue share one lock, so each step costs one lock however
    /// it is split into frames.
    /// </summary>
    internal int QueueData(MuxStream stream, ReadOnlySpan<byte> data, bool completeWrites, out bool fin)
    {
        lock (_sendLock)
        {
            var granted = ReserveCreditLocked(stream, data.Length, completeWrites, out fin);
            for (var offset = 0; offset < granted; offset += MuxFrame.MaxDataChunk)
            {
                var chunk = data.Slice(offset, Math.Min(MuxFrame.MaxDataChunk, granted - offset));
                chunk.CopyTo(AppendLocked(MuxFrameType.Data, DataFlags(fin, offset + chunk.Length == granted), stream, 0, chunk.Length));
            }

            WakeWriterAfterQueueingLocked(granted);
            return granted;
        }
    }

    /// <summary>
    /// As <see cref="QueueData(MuxStream, ReadOnlySpan{byte}, bool, out bool)"/>, for bytes in segments: each is
    /// copied once, straight into the send buffer, under the same single lock.
    /// </summary>
    internal int QueueData(MuxStream stream, in ReadOnlySequence<byte> data, bool completeWrites, out bool fin)
    {
        lock (_sendLock)
        {
            var granted = ReserveCreditLocked(stream, data.Length, completeWrites, out fin);
            AppendSegmentsLocked(stream, data, granted, fin);
            return granted;
        }
    }

    /// <summary>
    /// Queues as much of <paramref name="data"/> as credit allows now, in one step, and returns how much; it never
    /// waits. The caller keeps the rest.
    /// </summary>
    internal int QueueAvailable(MuxStream stream, in ReadOnlySequence<byte> data)
    {
        lock (_sendLock)
        {
            var granted = ReserveCreditLocked(stream, data.Length, completeWrites: false, out _);
            AppendSegmentsLocked(stream, data, granted, fin: false);
            return granted;
        }
    }

    private void AppendSegmentsLocked(MuxStream stream, in ReadOnlySequence<byte> data, int granted, bool fin)
    {
        for (var offset = 0; offset < granted; offset += MuxFrame.MaxDataChunk)
        {
            var chunk = data.Slice(offset, Math.Min(MuxFrame.MaxDataChunk, granted - offset));
            chunk.CopyTo(AppendLocked(MuxFrameType.Data, DataFlags(fin, offset + chunk.Length == granted), stream, 0, (int)chunk.Length));
        }

        WakeWriterAfterQueueingLocked(granted);
    }

    /// <summary>
    /// Takes credit for up to <paramref name="wanted"/> bytes, at most <see cref="MaxQueuedPerLock"/>; 0 when there
    /// is none. The caller queues the rest in further calls.
    /// </summary>
    private int ReserveCreditLocked(MuxStream stream, long wanted, bool completeWrites, out bool fin)
    {
        fin = false;
        var available = Math.Min(_sendLimit - _sendOffset, stream.SendLimit - stream.SendOffset);
        var granted = (int)Math.Min(Math.Min(wanted, available), MaxQueuedPerLock);
        if (granted <= 0 || _sendClosed)
        {
            return 0;
        }

        _sendOffset += granted;
        stream.SendOffset += granted;
        fin = completeWrites && granted == wanted;

        // Room for the whole step at once: the buffer then grows at most once, not once per doubling (each
        // doubling copies everything pending).
        EnsurePendingCapacity(_pendingLength + granted + (granted / MuxFrame.MaxDataChunk + 1) * MuxFrame.HeaderSize);
        return granted;
    }

    /// <summary>
    /// Wakes the writer once the frames are in place, not before: woken early, it would only spin on the send lock
    /// while the bytes are copied.
    /// </summary>
    private void WakeWriterAfterQueueingLocked(int granted)
    {
        if (granted > 0)
        {
            WakeWriterLocked();
        }
    }

    private static byte DataFlags(bool fin, bool lastChunk) => fin && lastChunk ? MuxFrame.Flag : (byte)0;

    /// <summary>Raises a stream's send limit to the peer's new MAX_STREAM_DATA; a stale, lower one changes nothing.</summary>
    internal void RaiseSendLimit(MuxStream stream, long limit)
    {
        lock (_sendLock)
        {
            if (limit > stream.SendLimit)
            {
                stream.SendLimit = limit;
            }
        }
    }

    internal void SendResetStream(MuxStream stream, long code) => AppendCode(MuxFrameType.ResetStream, stream, code);

    internal void SendStopSending(MuxStream stream, long code) => AppendCode(MuxFrameType.StopSending, stream, code);

    internal void SendMaxStreamData(MuxStream stream, long limit) => AppendCode(MuxFrameType.MaxStreamData, stream, limit);

    private void AppendCode(MuxFrameType type, MuxStream? stream, long value, uint connectionFrame = 0)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(body, value);
        Append(type, 0, stream, connectionFrame, body);
    }

    private void SendSettings()
    {
        Span<byte> body = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(body, _settings.StreamReceiveWindow);
        BinaryPrimitives.WriteInt64BigEndian(body[4..], _settings.ConnectionReceiveWindow);
        BinaryPrimitives.WriteInt32BigEndian(body[12..], _settings.MaxInboundStreams);
        Append(MuxFrameType.Settings, 0, null, 0, body);
    }

    private void SendPing(byte flags, ReadOnlySpan<byte> payload) => Append(MuxFrameType.Ping, flags, null, 0, payload);

    private void SendMaxData(long limit) => AppendCode(MuxFrameType.MaxData, null, limit);

    private void SendMaxStreams(long limit)
    {
        Span<byte> body = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(body, (uint)Math.Min(limit, uint.MaxValue));
        Append(MuxFrameType.MaxStreams, 0, null, 0, body);
    }

    private void SendClose(long code, string reason, byte flags)
    {
        Append(MuxFrameType.Close, flags, null, 0, MuxFrame.EncodeClose(code, reason, flags).AsSpan(MuxFrame.HeaderSize));
    }

    /// <summary>Appends one frame and wakes the writer loop; nothing is appended once the connection is closing.</summary>
    private void Append(MuxFrameType type, byte flags, MuxStream? stream, uint connectionFrame, ReadOnlySpan<byte> body)
    {
        lock (_sendLock)
        {
            if (_sendClosed)
            {
                return;
            }

            body.CopyTo(AppendLocked(type, flags, stream, connectionFrame, body.Length));
            WakeWriterLocked();
        }
    }

    /// <summary>
    /// Appends one frame whose body the caller copies into the returned span. A locally opened stream gets its id
    /// here, under the send lock, so the peer sees new stream ids in increasing order and can tell a new stream from
    /// a finished one by its id alone.
    /// </summary>
    private Span<byte> AppendLocked(MuxFrameType type, byte flags, MuxStream? stream, uint connectionFrame, int bodyLength)
    {
        var streamId = connectionFrame;
        if (stream is not null)
        {
            if (stream.Id == 0)
            {
                stream.Id = _nextLocalStreamId;
                Volatile.Write(ref _nextLocalStreamId, _nextLocalStreamId + 2);
                lock (_sync)
                {
                    _streams[stream.Id] = stream;
                }
            }

            streamId = stream.Id;
        }

        Span<byte> body;
        if (type == MuxFrameType.Data && _openDataFrame >= 0 && _openDataStream == streamId
            && _pendingLength - _openDataFrame - MuxFrame.HeaderSize + bodyLength <= MuxFrame.MaxDataChunk)
        {
            EnsurePendingCapacity(_pendingLength + bodyLength);
            var header = _pending.AsSpan(_openDataFrame, MuxFrame.HeaderSize);
            header[1] |= flags;
            BinaryPrimitives.WriteInt32BigEndian(header[6..], _pendingLength - _openDataFrame - MuxFrame.HeaderSize + bodyLength);
            body = _pending.AsSpan(_pendingLength, bodyLength);
            _pendingLength += bodyLength;
        }
        else
        {
            EnsurePendingCapacity(_pendingLength + MuxFrame.HeaderSize + bodyLength);
            MuxFrame.WriteHeader(_pending.AsSpan(_pendingLength), type, flags, streamId, bodyLength);
            body = _pending.AsSpan(_pendingLength + MuxFrame.HeaderSize, bodyLength);
            _openDataFrame = _pendingLength;
            _openDataStream = streamId;
            _pendingLength += MuxFrame.HeaderSize + bodyLength;
        }

        if (type != MuxFrameType.Data || flags != 0)
        {
            _openDataFrame = -1; // anything else must stay after the data before it; nothing follows a FIN
        }

        _lastSent = Environment.TickCount64;
        return body;
    }

    private void CloseSendBuffer()
    {
        lock (_sendLock)
        {
            _sendClosed = true;
            WakeWriterLocked();
        }
    }

    /// <summary>Wakes the writer loop unless it is already awake (it drains everything pending before it sleeps).</summary>
    private void WakeWriterLocked()
    {
        if (!_writerBusy)
        {
            _writerBusy = true;
            _sendReady.Release();
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                await _sendReady.WaitAsync(_lifetime.Token);
                while (true)
                {
                    byte[]? batch;
                    byte[]? unused = null;
                    var idle = false;
                    int length;
                    lock (_sendLock)
                    {
                        batch = _pending;
                        length = _pendingLength;
                        _pending = null;
                        _pendingLength = 0;
                        _openDataFrame = -1;
                        if (batch is null)
                        {
                            (unused, _spare) = (_spare, null);
                            idle = !_sendClosed;
                            _writerBusy = !idle;
                        }
                    }

                    if (unused is not null)
                    {
                        ArrayPool<byte>.Shared.Return(unused);
                    }

                    if (idle)
                    {
                        break;
                    }

                    if (batch is null)
                    {
                        // Closed and drained. Half-close: the peer reads our CLOSE frame, then end of stream.
                        _socket.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    try
                    {
                        // SslStream writes each TLS record to the socket on its own; gathered, they leave in one
                        // send. A batch that fits one record has nothing to gather.
                        if (length <= MaxRecordData)
                        {
                            await _ssl.WriteAsync(batch.AsMemory(0, length), _lifetime.Token);
                        }
                        else
                        {
                            await _records.BeginBatchAsync(length, _lifetime.Token);
                            await _ssl.WriteAsync(batch.AsMemory(0, length), _lifetime.Token);
                            await _records.EndBatchAsync(_lifetime.Token);
                        }
                    }
                    finally
                    {
                        KeepAsSpare(batch);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Shutdown(new ConecException(ConecError.ConnectionLost, $"Sending to {_remoteEndPoint} failed: {e.Message}", e),
                sendClose: false, 0, string.Empty, transportError: false);
        }
    }
}
