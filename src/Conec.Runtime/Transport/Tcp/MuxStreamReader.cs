using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.Tcp;

/// <summary>
/// The receive direction of one multiplexed stream: data from the reader loop into a pipe (or straight to a relay's
/// target), the application's <see cref="PipeReader"/> over it, and the stream's receive window (MAX_STREAM_DATA).
/// </summary>
/// <remarks>
/// The pipe never pauses its writer (<see cref="ReceiveSegmentPool.PipeOptions"/>). Credit is owed for what the
/// application examined as well as consumed (a framing reader waiting for the rest of a message larger than the
/// window must get more), and returned in batches of <see cref="CreditBatch"/> bytes, or at once when the reader
/// has consumed all it was given or is about to wait.
/// State is guarded by the stream's gate, shared with <see cref="MuxStream"/>.
/// </remarks>
internal sealed class MuxStreamReader : PipeReader
{
    private const long CreditBatch = 16 * 1024;

    private readonly MuxStream _stream;
    private readonly Lock _gate;
    private readonly MuxStreamTable _streams;
    private readonly MuxSendQueue _send;
    private readonly Pipe _pipe = new(ReceiveSegmentPool.PipeOptions);
    private readonly PipeReader _inner;
    private readonly int _receiveWindow;

    private bool _finReceived;
    private bool _resetReceived;
    private bool _readsStopped;
    private bool _writerCompleted;
    private long _received;
    private long _receiveLimit;
    private long _unconsumed;
    private long _consumedSinceUpdate;

    // Set once by a relay (under the gate): the stream whose send side takes received bytes while the pipe is empty.
    private MuxStream? _forwardTarget;
    private Action<long>? _onForwarded;

    // Bytes written to the pipe and not yet consumed by its reader. Examined-ahead credit makes _unconsumed unfit
    // for this: forwarding may only start when the pump has really taken everything.
    private long _pipeHeld;

    // The application's side, which reads on one thread at a time.
    private ReadOnlySequence<byte> _lastBuffer;
    private long _examinedAhead; // bytes examined beyond the consumed point, already counted as owed
    private long _owed;          // credit counted but not yet returned to the stream
    private bool _lastWasFinal;  // the last read saw the end of the stream: nothing more will come to batch with

    public MuxStreamReader(MuxStream stream, Lock gate, MuxStreamTable streams, MuxSendQueue send, int receiveWindow)
    {
        _stream = stream;
        _gate = gate;
        _streams = streams;
        _send = send;
        _inner = _pipe.Reader;
        _receiveWindow = receiveWindow;
        _receiveLimit = receiveWindow;
    }

    /// <summary>Set by the reader loop while this stream has bytes waiting for <see cref="FlushReceived"/>. Reader loop only.</summary>
    internal bool FlushPending { get; set; }

    /// <summary>Whether the peer's sending side has ended or the connection closed; takes the gate.</summary>
    internal bool PeerSendingEnded
    {
        get
        {
            lock (_gate)
            {
                return _finReceived || _resetReceived || _streams.CloseError is not null;
            }
        }
    }

    /// <summary>Whether nothing more will be received: the end came, the peer reset, or reading stopped. Under the gate.</summary>
    internal bool HasEndedLocked => _finReceived || _resetReceived || _readsStopped;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        // The common case, data already buffered, completes without an async state machine.
        var reading = _inner.ReadAsync(cancellationToken);
        if (reading.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Remember(reading.Result));
        }

        ReturnCredit();
        return WaitAsync(reading);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!_inner.TryRead(out result))
        {
            return false;
        }

        Remember(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var lastLength = _lastBuffer.Length;
        var consumedCount = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        var examinedCount = _lastBuffer.Slice(_lastBuffer.Start, examined).Length;
        _lastBuffer = default;
        _inner.AdvanceTo(consumed, examined);
        Interlocked.Add(ref _pipeHeld, -consumedCount);

        // Credit is owed for everything up to the furthest point examined, counted once.
        var creditedBefore = _examinedAhead;
        var creditedNow = Math.Max(examinedCount, consumedCount);
        _examinedAhead = Math.Max(creditedNow, creditedBefore) - consumedCount;
        _owed += Math.Max(0, creditedNow - creditedBefore);
        if (_owed >= CreditBatch || _lastWasFinal || consumedCount == lastLength)
        {
            ReturnCredit();
        }
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    /// <summary>Completing the application's reader stops reading (STOP_SENDING with code 0).</summary>
    public override void Complete(Exception? exception = null)
    {
        _owed = 0;
        _stream.AbortRead(0);
        _inner.Complete(exception);
    }

    /// <summary>
    /// Takes a data frame from the reader loop. While a relay forwards this stream and nothing waits in the pipe, the
    /// body goes straight to the target's send buffer, as much of it as the target has credit for: one copy, and no
    /// wake-up of the relay's pump. Otherwise (and for the rest) it joins the pipe, behind anything already there.
    /// </summary>
    internal ReceivedData OnData(ReadOnlySequence<byte> body, bool fin)
    {
        MuxStream? forwardTo = null;
        lock (_gate)
        {
            if (_readsStopped || _resetReceived || _streams.CloseError is not null)
            {
                return ReceivedData.Discarded;
            }

            if (_finReceived)
            {
                throw new MuxProtocolException($"data after the end of stream {_stream.Id}");
            }

            _received += body.Length;
            if (_received > _receiveLimit)
            {
                throw new MuxProtocolException($"stream {_stream.Id} received {_received} bytes, its window allowed {_receiveLimit}");
            }

            // A frame that ends the stream always takes the pipe, so the pump sees the end after every byte.
            if (!fin && _forwardTarget is { } target && Volatile.Read(ref _pipeHeld) == 0)
            {
                forwardTo = target;
            }
            else
            {
                BufferLocked(body);
                if (fin)
                {
                    _finReceived = true;
                    CompleteReceive(null);
                }
            }
        }

        if (forwardTo is not null)
        {
            return Forward(forwardTo, body);
        }

        if (fin)
        {
            _stream.MaybeRelease();
        }

        return ReceivedData.Buffered;
    }

    /// <summary>Makes bytes given by <see cref="OnData"/> readable, unless the receive side ended meanwhile.</summary>
    internal void FlushReceived()
    {
        lock (_gate)
        {
            if (!_writerCompleted)
            {
                ReceiveSegmentPool.FlushWithoutWaiting(_pipe.Writer);
            }
        }
    }

    /// <summary>Sends received bytes on to <paramref name="target"/> from now on, while the pipe holds none (a relay asks).</summary>
    internal void ForwardTo(MuxStream target, Action<long> onForwarded)
    {
        lock (_gate)
        {
            _onForwarded = onForwarded;
            _forwardTarget = target;
        }
    }

    internal void OnPeerReset(long errorCode)
    {
        long credit;
        lock (_gate)
        {
            if (_readsStopped || _resetReceived || _finReceived)
            {
                return;
            }

            _resetReceived = true;
            credit = _unconsumed;
            _unconsumed = 0;
            CompleteReceive(new ConecException(ConecError.StreamAborted, $"The peer aborted the stream (code {errorCode}).", errorCode, null));
        }

        _streams.OnBytesConsumed(credit);
        _stream.MaybeRelease();
    }

    /// <summary>Stops reading: the peer is told to stop sending (unless it had finished) and buffered bytes' credit returns.</summary>
    internal void StopReading(long errorCode)
    {
        long credit;
        lock (_gate)
        {
            if (_readsStopped || _resetReceived)
            {
                return;
            }

            _readsStopped = true;
            credit = _unconsumed;
            _unconsumed = 0;
            if (!_finReceived)
            {
                _send.SendStopSending(_stream, errorCode);
            }

            CompleteReceive(new ConecException(ConecError.StreamClosed, "Reading was stopped locally.", errorCode, null));
        }

        _streams.OnBytesConsumed(credit);
        _stream.MaybeRelease();
    }

    /// <summary>Fails a receive side still open when the connection closes; under the gate.</summary>
    internal void FailLocked(ConecException error)
    {
        if (!HasEndedLocked)
        {
            CompleteReceive(error);
        }
    }

    /// <summary>Completes the pipe's own reader, releasing what it still holds, when the stream is disposed.</summary>
    internal void CompletePipe() => _inner.Complete();

    private async ValueTask<ReadResult> WaitAsync(ValueTask<ReadResult> reading) => Remember(await reading);

    private ReadResult Remember(ReadResult result)
    {
        _lastBuffer = result.Buffer;
        _lastWasFinal = result.IsCompleted;
        return result;
    }

    private void ReturnCredit()
    {
        if (_owed > 0)
        {
            OnConsumed(_owed);
            _owed = 0;
        }
    }

    /// <summary>
    /// Hands what the relay's target has credit for straight to it; the rest joins the pipe, for the pump. The gate
    /// is not held while the target's is taken: the relay's other direction takes them the other way.
    /// </summary>
    private ReceivedData Forward(MuxStream target, ReadOnlySequence<byte> body)
    {
        var forwarded = target.QueueForwarded(body);
        if (forwarded > 0)
        {
            _onForwarded?.Invoke(forwarded);
            body = body.Slice(forwarded);
        }

        ReceivedData outcome;
        lock (_gate)
        {
            var reading = !_readsStopped && !_resetReceived && !_writerCompleted;
            if (forwarded > 0 && reading)
            {
                GrantLocked(forwarded);
            }

            if (body.IsEmpty)
            {
                outcome = ReceivedData.Forwarded;
            }
            else if (reading)
            {
                BufferLocked(body);
                outcome = ReceivedData.Buffered;
            }
            else if (forwarded == 0)
            {
                return ReceivedData.Discarded;
            }
            else
            {
                // Reading stopped meanwhile: the rest is dropped, its connection credit returned with the forwarded part.
                outcome = ReceivedData.Forwarded;
                forwarded += (int)body.Length;
            }
        }

        if (forwarded > 0)
        {
            _streams.OnBytesConsumed(forwarded);
        }

        return outcome;
    }

    /// <summary>Puts bytes in the pipe; unless the stream ends with them, they wait for <see cref="FlushReceived"/>.</summary>
    private void BufferLocked(in ReadOnlySequence<byte> body)
    {
        _unconsumed += body.Length;
        Interlocked.Add(ref _pipeHeld, body.Length);
        foreach (var segment in body)
        {
            _pipe.Writer.Write(segment.Span);
        }
    }

    /// <summary>Returns credit for bytes the application consumed or examined.</summary>
    private void OnConsumed(long count)
    {
        if (count == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_readsStopped || _resetReceived)
            {
                return;
            }

            _unconsumed -= count;
            GrantLocked(count);
        }

        _streams.OnBytesConsumed(count);
    }

    /// <summary>Counts bytes that left this stream's care towards its next window update.</summary>
    private void GrantLocked(long count)
    {
        if (!_finReceived)
        {
            _consumedSinceUpdate += count;

            // Half-window steps: the sender always has credit left while the update travels.
            if (_consumedSinceUpdate >= _receiveWindow / 2)
            {
                _receiveLimit += _consumedSinceUpdate;
                _consumedSinceUpdate = 0;
                _send.SendMaxStreamData(_stream, _receiveLimit);
            }
        }
    }

    /// <summary>Ends the receive pipe (committing bytes not yet flushed); called under the gate.</summary>
    private void CompleteReceive(Exception? error)
    {
        _writerCompleted = true;
        _pipe.Writer.Complete(error);
    }
}
