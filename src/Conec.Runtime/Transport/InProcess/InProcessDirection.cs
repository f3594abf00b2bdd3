using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.InProcess;

/// <summary>
/// One direction of an <see cref="InProcessStream"/> pair: a pipe the sender writes and the receiver reads, with the
/// transport contract's finish, reset and stop-sending. Every use of the pipe's writer happens under one lock, since
/// the sender (writes, finish, reset) and the receiver (stop-sending fails its own reads) both complete it.
/// </summary>
internal sealed class InProcessDirection
{
    private readonly Lock _lock = new();
    private readonly Pipe _pipe;
    private readonly TaskCompletionSource _writesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ConecException? _sendError; // why writes now fail: reset here, or stopped by the receiver
    private bool _sendDone;
    private bool _readsStopped;

    /// <param name="window">
    /// Bytes the sender may write ahead of the reader, as a transport's stream window. Each write enters the pipe
    /// whole before the writer waits, so a message larger than the window (written in one piece, as every writer of
    /// these streams does) never leaves its reader waiting for the rest.
    /// </param>
    public InProcessDirection(int window)
    {
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: window, resumeWriterThreshold: window / 2, useSynchronizationContext: false));
    }

    public PipeReader Reader => _pipe.Reader;

    public Task WritesClosed => _writesClosed.Task;

    /// <summary>Whether the sender finished or reset, known at once (the reader may still hold the last bytes).</summary>
    public bool SendingEnded
    {
        get
        {
            lock (_lock)
            {
                return _sendDone;
            }
        }
    }

    public async ValueTask WriteAsync(ReadOnlySequence<byte> data, bool completeWrites, CancellationToken cancellationToken)
    {
        ValueTask<FlushResult> flush;
        lock (_lock)
        {
            ThrowIfCannotSend();
            foreach (var segment in data)
            {
                _pipe.Writer.Write(segment.Span);
            }

            if (completeWrites)
            {
                FinishLocked();
                return;
            }

            flush = _pipe.Writer.FlushAsync(cancellationToken);
        }

        var result = await flush;
        if (result.IsCanceled || result.IsCompleted)
        {
            // Woken by a reset or stop-sending (IsCanceled), or the reader is gone (IsCompleted): the write did not land.
            lock (_lock)
            {
                throw _sendError ?? new ConecException(ConecError.StreamStopped, "The peer stopped reading the stream (code 0).", 0, null);
            }
        }
    }

    public void CompleteWrites()
    {
        lock (_lock)
        {
            if (!_sendDone)
            {
                FinishLocked();
            }
        }
    }

    /// <summary>The sender resets: the reader's reads fail with <see cref="ConecError.StreamAborted"/>.</summary>
    public void AbortWrite(long errorCode)
    {
        lock (_lock)
        {
            if (_sendDone)
            {
                return;
            }

            _sendDone = true;
            _sendError = new ConecException(ConecError.StreamClosed, $"The stream's sending side was aborted locally (code {errorCode}).", errorCode, null);
            _pipe.Writer.Complete(new ConecException(ConecError.StreamAborted, $"The peer aborted the stream (code {errorCode}).", errorCode, null));
            _pipe.Writer.CancelPendingFlush();
            _writesClosed.TrySetException(_sendError);
        }
    }

    /// <summary>The receiver stops reading: the sender's writes fail with <see cref="ConecError.StreamStopped"/>, its own reads end.</summary>
    public void StopReading(long errorCode)
    {
        lock (_lock)
        {
            if (_readsStopped)
            {
                return;
            }

            _readsStopped = true;
            if (!_sendDone)
            {
                // RFC 9000 §3.5: a stop-sending ends the sender's direction with the same code.
                _sendDone = true;
                _sendError = new ConecException(ConecError.StreamStopped, $"The peer stopped reading the stream (code {errorCode}).", errorCode, null);
                _writesClosed.TrySetException(_sendError);
                _pipe.Writer.Complete(new ConecException(ConecError.StreamClosed, "Reading was stopped locally.", errorCode, null));
                _pipe.Writer.CancelPendingFlush();
            }
        }
    }

    /// <summary>Releases what the pipe still holds once the receiver is disposed; a waiting writer wakes and fails.</summary>
    public void ReleaseReader() => _pipe.Reader.Complete();

    private void FinishLocked()
    {
        _sendDone = true;
        _pipe.Writer.Complete();
        _writesClosed.TrySetResult();
    }

    private void ThrowIfCannotSend()
    {
        if (_sendError is not null)
        {
            throw _sendError;
        }

        if (_sendDone)
        {
            throw new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.");
        }
    }
}
