using System.Buffers;
using System.Buffers.Binary;
using Conec.Concurrency;

namespace Conec.Transport.Tcp;

/// <summary>
/// A connection's outgoing frames and send credit: writers append frames under one lock, as far as credit allows,
/// and <see cref="MuxWriteLoop"/> takes everything waiting as its next batch.
/// </summary>
/// <remarks>
/// Frames wait in two lanes, and a batch sends the urgent lane first: control frames, a stream's first frame, and
/// each stream's first <see cref="UrgentDataPerBatch"/> bytes of data go there; a stream that writes more before the
/// writer comes round moves to the bulk lane for the rest of that batch, so a small message on a quiet stream waits
/// for at most the batch already being sent, not for megabytes of another stream's data. The bulk lane holds at
/// most <see cref="BulkLaneLimit"/>; writers wait for the next batch beyond that, as they wait for credit. Small
/// frames appended between two passes of the writer loop leave in one TLS write: that is the coalescing (see
/// docs/architecture.md, "The house: the TCP multiplexer" and "Small messages beside bulk"). Lanes rent buffers
/// only while frames wait, so an idle connection holds none.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The semaphore is only awaited asynchronously, so it never creates a wait handle: disposing it would free nothing.")]
internal sealed partial class MuxSendQueue
{
    /// <summary>The data a stream may queue in the urgent lane per batch: a few small messages, never bulk.</summary>
    public const int UrgentDataPerBatch = 4 * 1024;

    /// <summary>
    /// The most the bulk lane holds: one batch's worth for the writer, and the longest a small message waits behind
    /// it (about a tenth of a millisecond of TLS on this machine's cores).
    /// </summary>
    public const int BulkLaneLimit = 256 * 1024;

    // How long the writer must have been idle for the next data write to run it inline (20 us, in Stopwatch ticks).
    private static readonly long InlineAfterIdle = System.Diagnostics.Stopwatch.Frequency / 50_000;

    // The most one call queues under the lock: a large write is queued in steps, so the writer loop encrypts the
    // first step while the next is copied instead of waiting for all.
    private const int MaxQueuedPerLock = 64 * 1024;

    // Guarded by _lock: the lanes, whether the writer loop has them, send credit and local stream ids.
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _sendReady = new(0, 1);
    private readonly AsyncSignal _connectionCredit = new();
    private readonly MuxSendLane _urgent = new();
    private readonly MuxSendLane _bulk = new();
    private long _generation = 1; // counts batches taken, so a stream's lane state from an earlier one is stale
    private bool _bulkFull;       // a writer found the bulk lane full and waits for the next batch
    private bool _writerBusy;
    private int _writerClaimed; // a data write found the writer idle: whoever calls RunClaimedWriter first writes inline
    private long _writerIdleSince; // Stopwatch timestamp of when the writer last ran out of frames
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

    /// <summary>Completes when the peer raises the connection's send limit, the bulk lane has room again, or the connection closes.</summary>
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
            var granted = ReserveLocked(stream, data.Length, completeWrites, out fin, out var lane);
            for (var offset = 0; offset < granted; offset += MuxFrame.MaxDataChunk)
            {
                var chunk = data.Slice(offset, Math.Min(MuxFrame.MaxDataChunk, granted - offset));
                chunk.CopyTo(AppendLocked(lane, MuxFrameType.Data, DataFlags(fin, offset + chunk.Length == granted), stream, 0, chunk.Length));
            }

            ClaimWriterAfterQueueingLocked(granted);
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
            var granted = ReserveLocked(stream, data.Length, completeWrites, out fin, out var lane);
            AppendSegmentsLocked(lane, stream, data, granted, fin);
            return granted;
        }
    }

    /// <summary>Queues as much of <paramref name="data"/> as credit allows now, in one step, and returns how much; it never waits.</summary>
    public int QueueAvailable(MuxStream stream, in ReadOnlySequence<byte> data)
    {
        lock (_lock)
        {
            var granted = ReserveLocked(stream, data.Length, completeWrites: false, out _, out var lane);
            AppendSegmentsLocked(lane, stream, data, granted, fin: false);
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

    /// <summary>Refuses further frames; the writer loop drains what is queued, then half-closes the socket.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            WakeWriterLocked();
        }

        _connectionCredit.Pulse();
    }

    /// <summary>The connection's writer, for the writes that find it idle; set once, before any data is queued (without one, the loop is woken).</summary>
    public MuxWriteLoop? InlineWriter { get; set; }

    /// <summary>
    /// Called by every data writer once it has left its locks: if its write claimed the idle writer (or another
    /// write's claim is still unserved), sends the batch on this thread.
    /// </summary>
    public void RunClaimedWriter()
    {
        if (Volatile.Read(ref _writerClaimed) == 1 && Interlocked.Exchange(ref _writerClaimed, 0) == 1)
        {
            if (InlineWriter is { } writer)
            {
                writer.WriteInline();
            }
            else
            {
                _sendReady.Release(); // no writer to run here: the loop takes the batch
            }
        }
    }

    /// <summary>
    /// After an inline batch: wakes the writer loop when more frames wait or the queue has closed (it drains and
    /// half-closes), else leaves the writer idle for the next write to claim.
    /// </summary>
    public void HandOffWriter()
    {
        lock (_lock)
        {
            if (_urgent.Length > 0 || _bulk.Length > 0 || _closed)
            {
                _sendReady.Release();
            }
            else
            {
                _writerBusy = false;
                _writerIdleSince = System.Diagnostics.Stopwatch.GetTimestamp();
            }
        }
    }

    /// <summary>Waits until the writer loop is woken with frames to send, or with the queue closed.</summary>
    public Task WaitForFramesAsync(CancellationToken cancellationToken) => _sendReady.WaitAsync(cancellationToken);

    /// <summary>
    /// Takes every waiting frame as one batch, urgent lane first, or returns an empty batch: then
    /// <paramref name="drained"/> says the queue is closed and empty, else the writer loop sleeps until
    /// <see cref="WaitForFramesAsync"/> wakes it again.
    /// </summary>
    public MuxSendBatch TakeBatch(out bool drained)
    {
        MuxSendBatch batch;
        byte[]? unusedUrgent, unusedBulk;
        bool wakeWriters;
        lock (_lock)
        {
            batch = new MuxSendBatch(_urgent.Take(out var urgentLength, out unusedUrgent), urgentLength, _bulk.Take(out var bulkLength, out unusedBulk), bulkLength);
            _generation++;
            wakeWriters = _bulkFull;
            _bulkFull = false;
            drained = false;
            if (batch.IsEmpty)
            {
                drained = _closed;
                _writerBusy = _closed;
                _writerIdleSince = System.Diagnostics.Stopwatch.GetTimestamp();
            }
        }

        ReturnToPool(unusedUrgent);
        ReturnToPool(unusedBulk);
        if (wakeWriters)
        {
            _connectionCredit.Pulse();
        }

        return batch;
    }

    /// <summary>Keeps a sent batch's arrays for the next batch, unless one is kept already or sending has ended.</summary>
    public void KeepAsSpare(in MuxSendBatch batch)
    {
        bool keptUrgent, keptBulk;
        lock (_lock)
        {
            keptUrgent = batch.Urgent is { } urgent && !_closed && _urgent.TryKeepAsSpare(urgent);
            keptBulk = batch.Bulk is { } bulk && !_closed && _bulk.TryKeepAsSpare(bulk);
        }

        ReturnToPool(keptUrgent ? null : batch.Urgent);
        ReturnToPool(keptBulk ? null : batch.Bulk);
    }

    private static void ReturnToPool(byte[]? array)
    {
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void AppendSegmentsLocked(MuxSendLane lane, MuxStream stream, in ReadOnlySequence<byte> data, int granted, bool fin)
    {
        for (var offset = 0; offset < granted; offset += MuxFrame.MaxDataChunk)
        {
            var chunk = data.Slice(offset, Math.Min(MuxFrame.MaxDataChunk, granted - offset));
            chunk.CopyTo(AppendLocked(lane, MuxFrameType.Data, DataFlags(fin, offset + chunk.Length == granted), stream, 0, (int)chunk.Length));
        }

        ClaimWriterAfterQueueingLocked(granted);
    }

    /// <summary>
    /// Takes credit for up to <paramref name="wanted"/> bytes, at most <see cref="MaxQueuedPerLock"/> and as much as
    /// the chosen lane has room for; 0 when there is none. The caller queues the rest in further calls.
    /// </summary>
    private int ReserveLocked(MuxStream stream, long wanted, bool completeWrites, out bool fin, out MuxSendLane lane)
    {
        fin = false;
        lane = _urgent;
        var available = Math.Min(_sendLimit - _sendOffset, stream.SendLimit - stream.SendOffset);
        var granted = (int)Math.Min(Math.Min(wanted, available), MaxQueuedPerLock);
        if (granted <= 0 || _closed)
        {
            return 0;
        }

        lane = DataLaneLocked(stream, granted);
        if (lane == _bulk)
        {
            granted = Math.Min(granted, BulkLaneLimit - _bulk.Length);
            if (granted <= 0)
            {
                _bulkFull = true;
                return 0;
            }
        }
        else
        {
            stream.Lane.UrgentBytes += granted;
        }

        _sendOffset += granted;
        stream.SendOffset += granted;
        fin = completeWrites && granted == wanted;

        // Room for the whole step at once: the buffer then grows at most once, not once per doubling.
        lane.Reserve(granted + (granted / MuxFrame.MaxDataChunk + 1) * MuxFrame.HeaderSize);
        return granted;
    }

    /// <summary>
    /// The lane for a stream's next <paramref name="bytes"/> of data. A stream's first frame is urgent, so the peer
    /// sees new stream ids in increasing order; a stream never leaves the bulk lane within a batch, so its frames
    /// keep their order.
    /// </summary>
    private MuxSendLane DataLaneLocked(MuxStream stream, int bytes)
    {
        if (stream.Id == 0)
        {
            return _urgent;
        }

        ref var state = ref stream.Lane;
        if (state.Generation != _generation)
        {
            state = new MuxLaneState { Generation = _generation };
        }

        if (!state.InBulk && state.UrgentBytes + bytes <= UrgentDataPerBatch)
        {
            return _urgent;
        }

        state.InBulk = true;
        return _bulk;
    }

    /// <summary>
    /// After data is in place: an idle writer is claimed for the caller to run inline (<see cref="RunClaimedWriter"/>),
    /// which saves the hop to the writer loop that a round trip would otherwise pay on every leg.
    /// </summary>
    private void ClaimWriterAfterQueueingLocked(int granted)
    {
        if (granted <= 0)
        {
            return;
        }

        // Only a write that finds the writer idle for a while runs it inline: writes in quick succession go to the
        // loop, whose wake-up lets them gather into one TLS write (a flood of small messages would otherwise pay a
        // system call each).
        if (_writerBusy)
        {
            return;
        }

        _writerBusy = true;
        if (System.Diagnostics.Stopwatch.GetTimestamp() - _writerIdleSince > InlineAfterIdle)
        {
            _writerClaimed = 1;
        }
        else
        {
            _sendReady.Release();
        }
    }

    private static byte DataFlags(bool fin, bool lastChunk) => fin && lastChunk ? MuxFrame.Flag : (byte)0;

    /// <summary>
    /// Appends one frame to a lane; the caller copies the body into the returned span. A locally opened stream gets
    /// its id here, under the lock, so the peer sees new stream ids in increasing order and can tell a new stream
    /// from a finished one by its id alone.
    /// </summary>
    private Span<byte> AppendLocked(MuxSendLane lane, MuxFrameType type, byte flags, MuxStream? stream, uint connectionFrame, int bodyLength)
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

        _lastSent = Environment.TickCount64;
        return lane.Append(type, flags, streamId, bodyLength);
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
}
