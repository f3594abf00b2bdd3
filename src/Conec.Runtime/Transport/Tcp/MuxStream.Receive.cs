using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.Tcp;

/// <summary>The receive side of a stream: data from the reader loop into the pipe, credit back as the application reads.</summary>
internal sealed partial class MuxStream
{
    /// <summary>
    /// Takes a data frame from the reader loop. While a relay forwards this stream (see
    /// <see cref="TryForwardReceivedTo"/>) and nothing waits in the pipe, the body goes straight to the target's send
    /// buffer, as much of it as the target has credit for: one copy, and no wake-up of the relay's pump. Otherwise
    /// (and for the rest) it joins the pipe, behind anything already there, so the pump forwards it in order.
    /// </summary>
    internal ReceivedData OnData(ReadOnlySequence<byte> body, bool fin)
    {
        MuxStream? forwardTo = null;
        lock (_gate)
        {
            if (_readsStopped || _resetReceived || _connection.CloseError is not null)
            {
                return ReceivedData.Discarded;
            }

            if (_finReceived)
            {
                throw new MuxProtocolException($"data after the end of stream {Id}");
            }

            _received += body.Length;
            if (_received > _receiveLimit)
            {
                throw new MuxProtocolException($"stream {Id} received {_received} bytes, its window allowed {_receiveLimit}");
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
            MaybeRelease();
        }

        return ReceivedData.Buffered;
    }

    /// <summary>
    /// Hands what the relay's target has credit for straight to it; the rest joins the pipe, for the pump. This
    /// stream's gate is not held while the target's is taken: the relay's other direction takes them the other way.
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
            _connection.OnBytesConsumed(forwarded);
        }

        return outcome;
    }

    /// <summary>
    /// Puts bytes in the pipe. Unless the stream ends with them, they wait for <see cref="FlushReceived"/>, which the
    /// reader loop calls once per read.
    /// </summary>
    private void BufferLocked(in ReadOnlySequence<byte> body)
    {
        _unconsumed += body.Length;
        Interlocked.Add(ref _pipeHeld, body.Length);
        foreach (var segment in body)
        {
            _pipe.Writer.Write(segment.Span);
        }
    }

    /// <summary>Called by the reader wrapper with what the reader consumed: the pipe then holds that much less.</summary>
    internal void OnReaderConsumed(long count) => Interlocked.Add(ref _pipeHeld, -count);

    /// <summary>Set by the reader loop while this stream has bytes waiting for <see cref="FlushReceived"/>. Reader loop only.</summary>
    internal bool FlushPending { get; set; }

    /// <summary>Makes bytes given by <see cref="OnData"/> readable, unless the receive side ended meanwhile.</summary>
    internal void FlushReceived()
    {
        lock (_gate)
        {
            if (!_writerCompleted)
            {
                FlushWithoutWaiting(_pipe.Writer);
            }
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

        _connection.OnBytesConsumed(credit);
        MaybeRelease();
    }


    /// <summary>Called by the reader wrapper as the application consumes bytes; returns their credit.</summary>
    internal void OnConsumed(long count)
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

        _connection.OnBytesConsumed(count);
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
                _connection.SendMaxStreamData(this, _receiveLimit);
            }
        }
    }

    /// <summary>Ends the receive pipe (committing bytes not yet flushed); called under the gate.</summary>
    private void CompleteReceive(Exception? error)
    {
        _writerCompleted = true;
        _pipe.Writer.Complete(error);
    }

    private static void FlushWithoutWaiting(PipeWriter writer)
    {
        // pauseWriterThreshold is 0, so the pipe never applies back-pressure and FlushAsync completes synchronously;
        // the stream window is what bounds the buffered bytes.
        var flush = writer.FlushAsync(CancellationToken.None);
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("A receive pipe applied back-pressure; its options must disable pausing.");
        }

        _ = flush.Result;
    }
}
