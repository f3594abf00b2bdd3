using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.Tcp;

/// <summary>The receive side of a stream: data from the reader loop into the pipe, credit back as the application reads.</summary>
internal sealed partial class MuxStream
{
    /// <summary>Takes a data frame from the reader loop; returns false when the bytes were discarded (caller credits them).</summary>
    internal bool OnData(ReadOnlySequence<byte> body, bool fin)
    {
        lock (_gate)
        {
            if (_readsStopped || _resetReceived || _connection.CloseError is not null)
            {
                return false;
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

            _unconsumed += body.Length;
            foreach (var segment in body)
            {
                _pipe.Writer.Write(segment.Span);
            }

            // Without the end, the bytes wait for FlushReceived, which the reader loop calls once per read.
            if (fin)
            {
                _finReceived = true;
                CompleteReceive(null);
            }
        }

        if (fin)
        {
            MaybeRelease();
        }

        return true;
    }

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

        _connection.OnBytesConsumed(count);
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
