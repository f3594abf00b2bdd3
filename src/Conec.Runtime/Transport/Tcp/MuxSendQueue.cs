using System.Buffers;
using System.Buffers.Binary;
using Conec.Concurrency;

namespace Conec.Transport.Tcp;

/// <summary>
/// A connection's outgoing frames and send credit: writers append frames to one pooled buffer under one lock, as far
/// as credit allows, and <see cref="MuxWriteLoop"/> takes the buffer whole as its next batch.
/// </summary>
/// <remarks>
/// Small frames appended between two passes of the writer loop leave in one TLS write: that is the coalescing (see
/// docs/architecture.md, "The house: the TCP multiplexer"). The buffer is bounded by flow control (data needs
/// credit) plus small control frames, and is rented only while frames wait, so an idle connection holds none.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore is only awaited asynchronously, so it never creates a wait handle: disposing it would free nothing.")]
internal sealed class MuxSendQueue
{
    // The most one call queues under the lock: a large write is queued in steps, so the writer loop encrypts the
    // first step while the next is copied instead of waiting for all.
    private const int MaxQueuedPerLock = 64 * 1024;

    private const int MinimumSendBuffer = 16 * 1024;

    private static readonly byte[] KeepAlivePayload = new byte[8];

    // Guarded by _lock: the pending frames, whether the writer loop has them, send credit and local stream ids.
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _sendReady = new(0, 1);
    private readonly AsyncSignal _connectionCredit = new();
    private byte[]? _pending;
    private int _pendingLength;

    // The last batch's array, kept for the next batch while the writer is busy, so a batch that fills while the one
    // before it is encrypted does not re-copy itself at every doubling; returned once the writer finds nothing pending.
    private byte[]? _spare;
    private bool _writerBusy;

    // Where the last pending frame starts, when it is a DATA frame without FIN that may still grow (else -1), and its
    // stream: a write on the same stream that follows at once extends that frame instead of adding a header.
    private int _openDataFrame = -1;
    private uint _openDataStream;
    private bool _closed;
    private uint _nextLocalStreamId;
    private long _lastSent;
    private long _sendLimit;   // absolute connection offset the peer allows us to reach
    private long _sendOffset;  // connection bytes we have sent

    public MuxSendQueue(bool isClient, long now)
    {
        _nextLocalStreamId = isClient ? 1u : 2u;
        _lastSent = now;
    }

    /// <summary>The id the next locally opened stream will get; every id below it has been given out.</summary>
    public uint NextLocalStreamId => Volatile.Read(ref _nextLocalStreamId);

    /// <summary>When a frame was last queued (<see cref="Environment.TickCount64"/>), for keep-alive.</summary>
    public long LastSent => Volatile.Read(ref _lastSent);

    /// <summary>Completes when the peer raises the connection's send limit (or the connection closes).</summary>
    public Task CreditChanged => _connectionCredit.Current;

    /// <summary>
    /// Queues as much of <paramref name="data"/> as send credit allows, up to <see cref="MaxQueuedPerLock"/>, in
    /// data frames, and returns how much. Credit and the queue share one lock, so each step costs one lock however
    /// it is split into frames.
    /// </summary>
    public int QueueData(MuxStream stream, ReadOnlySpan<byte> data, bool completeWrites, out bool fin)
    {
        lock (_lock)
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
    public int QueueData(MuxStream stream, in ReadOnlySequence<byte> data, bool completeWrites, out bool fin)
    {
        lock (_lock)
        {
            var granted = ReserveCreditLocked(stream, data.Length, completeWrites, out fin);
            AppendSegmentsLocked(stream, data, granted, fin);
            return granted;
        }
    }

    /// <summary>Queues as much of <paramref name="data"/> as credit allows now, in one step, and returns how much; it never waits.</summary>
    public int QueueAvailable(MuxStream stream, in ReadOnlySequence<byte> data)
    {
        lock (_lock)
        {
            var granted = ReserveCreditLocked(stream, data.Length, completeWrites: false, out _);
            AppendSegmentsLocked(stream, data, granted, fin: false);
            return granted;
        }
    }

    /// <summary>Raises a stream's send limit to the peer's new MAX_STREAM_DATA; a stale, lower one changes nothing.</summary>
    public void RaiseSendLimit(MuxStream stream, long limit)
    {
        lock (_lock)
        {
            if (limit > stream.SendLimit)
            {
                stream.SendLimit = limit;
            }
        }
    }

    /// <summary>Takes the connection window from the peer's SETTINGS.</summary>
    public void SetConnectionLimit(long limit)
    {
        lock (_lock)
        {
            _sendLimit = limit;
        }
    }

    /// <summary>Raises the connection's send limit to the peer's new MAX_DATA and wakes writers waiting for it.</summary>
    public void OnConnectionCredit(long limit)
    {
        lock (_lock)
        {
            if (limit <= _sendLimit)
            {
                return;
            }

            _sendLimit = limit;
        }

        _connectionCredit.Pulse();
    }

    /// <summary>Wakes writers waiting for connection credit, so they see the connection has closed.</summary>
    public void PulseCredit() => _connectionCredit.Pulse();

    public void SendFin(MuxStream stream) => Append(MuxFrameType.Data, MuxFrame.Flag, stream, 0, ReadOnlySpan<byte>.Empty);

    public void SendResetStream(MuxStream stream, long code) => AppendCode(MuxFrameType.ResetStream, stream, code);

    public void SendStopSending(MuxStream stream, long code) => AppendCode(MuxFrameType.StopSending, stream, code);

    public void SendMaxStreamData(MuxStream stream, long limit) => AppendCode(MuxFrameType.MaxStreamData, stream, limit);

    public void SendMaxData(long limit) => AppendCode(MuxFrameType.MaxData, null, limit);

    public void SendMaxStreams(long limit)
    {
        Span<byte> body = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(body, (uint)Math.Min(limit, uint.MaxValue));
        Append(MuxFrameType.MaxStreams, 0, null, 0, body);
    }

    public void SendSettings(TransportSettings settings)
    {
        Span<byte> body = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(body, settings.StreamReceiveWindow);
        BinaryPrimitives.WriteInt64BigEndian(body[4..], settings.ConnectionReceiveWindow);
        BinaryPrimitives.WriteInt32BigEndian(body[12..], settings.MaxInboundStreams);
        Append(MuxFrameType.Settings, 0, null, 0, body);
    }

    public void SendPing(byte flags, ReadOnlySpan<byte> payload) => Append(MuxFrameType.Ping, flags, null, 0, payload);

    public void SendKeepAlive() => SendPing(0, KeepAlivePayload);

    public void SendClose(long code, string reason, byte flags) =>
        Append(MuxFrameType.Close, flags, null, 0, MuxFrame.EncodeClose(code, reason, flags).AsSpan(MuxFrame.HeaderSize));

    /// <summary>Refuses further frames; the writer loop drains what is queued, then half-closes the socket.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            WakeWriterLocked();
        }
    }

    /// <summary>Waits until the writer loop is woken with frames to send, or with the queue closed.</summary>
    public Task WaitForFramesAsync(CancellationToken cancellationToken) => _sendReady.WaitAsync(cancellationToken);

    /// <summary>
    /// Takes every pending frame as one batch, or returns null: then <paramref name="drained"/> says the queue is
    /// closed and empty, else the writer loop sleeps until <see cref="WaitForFramesAsync"/> wakes it again.
    /// </summary>
    public byte[]? TakeBatch(out int length, out bool drained)
    {
        byte[]? unused = null;
        byte[]? batch;
        lock (_lock)
        {
            batch = _pending;
            length = _pendingLength;
            _pending = null;
            _pendingLength = 0;
            _openDataFrame = -1;
            drained = false;
            if (batch is null)
            {
                (unused, _spare) = (_spare, null);
                drained = _closed;
                _writerBusy = _closed;
            }
        }

        if (unused is not null)
        {
            ArrayPool<byte>.Shared.Return(unused);
        }

        return batch;
    }

    /// <summary>Keeps a sent batch's array for the next batch, unless one is kept already or sending has ended.</summary>
    public void KeepAsSpare(byte[] batch)
    {
        lock (_lock)
        {
            if (_spare is null && !_closed)
            {
                _spare = batch;
                return;
            }
        }

        ArrayPool<byte>.Shared.Return(batch);
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
        if (granted <= 0 || _closed)
        {
            return 0;
        }

        _sendOffset += granted;
        stream.SendOffset += granted;
        fin = completeWrites && granted == wanted;

        // Room for the whole step at once: the buffer then grows at most once, not once per doubling.
        EnsurePendingCapacity(_pendingLength + granted + (granted / MuxFrame.MaxDataChunk + 1) * MuxFrame.HeaderSize);
        return granted;
    }

    /// <summary>Wakes the writer once the frames are in place: woken early, it would only spin on the lock.</summary>
    private void WakeWriterAfterQueueingLocked(int granted)
    {
        if (granted > 0)
        {
            WakeWriterLocked();
        }
    }

    private static byte DataFlags(bool fin, bool lastChunk) => fin && lastChunk ? MuxFrame.Flag : (byte)0;

    private void AppendCode(MuxFrameType type, MuxStream? stream, long value)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(body, value);
        Append(type, 0, stream, 0, body);
    }

    /// <summary>Appends one frame and wakes the writer loop; nothing is appended once the queue is closed.</summary>
    private void Append(MuxFrameType type, byte flags, MuxStream? stream, uint connectionFrame, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            body.CopyTo(AppendLocked(type, flags, stream, connectionFrame, body.Length));
            WakeWriterLocked();
        }
    }

    /// <summary>
    /// Appends one frame whose body the caller copies into the returned span. A locally opened stream gets its id
    /// here, under the lock, so the peer sees new stream ids in increasing order and can tell a new stream from a
    /// finished one by its id alone.
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
                stream.Table.AddLocal(stream);
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

    /// <summary>Wakes the writer loop unless it is already awake (it drains everything pending before it sleeps).</summary>
    private void WakeWriterLocked()
    {
        if (!_writerBusy)
        {
            _writerBusy = true;
            _sendReady.Release();
        }
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_pending))]
    private void EnsurePendingCapacity(int needed)
    {
        if (_pending is null)
        {
            _pending = TakeSpareLocked(needed) ?? ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinimumSendBuffer));
        }
        else if (needed > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _pending.Length * 2));
            _pending.AsSpan(0, _pendingLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = larger;
        }
    }

    /// <summary>The kept array when it is large enough; one too small goes back to the pool.</summary>
    private byte[]? TakeSpareLocked(int needed)
    {
        var spare = _spare;
        _spare = null;
        if (spare is null || spare.Length >= needed)
        {
            return spare;
        }

        ArrayPool<byte>.Shared.Return(spare);
        return null;
    }
}
