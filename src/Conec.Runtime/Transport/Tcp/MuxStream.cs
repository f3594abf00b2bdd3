using System.Buffers;
using System.IO.Pipelines;
using Conec.Concurrency;

namespace Conec.Transport.Tcp;

/// <summary>
/// One multiplexed stream. Received bytes go into a <see cref="Pipe"/> that never pauses its writer: the stream
/// window already bounds what can be buffered, and the reader loop must never wait on one slow stream. Segments
/// stay at the pipe's usual 4 KiB: a coordinator with thousands of streams each holding a few small messages would
/// otherwise hold a large segment per stream.
/// </summary>
internal sealed partial class MuxStream : TransportStream
{
    private static readonly PipeOptions ReceivePipeOptions = new(
        pool: ReceiveSegmentPool.Instance, pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 4096,
        useSynchronizationContext: false);

    private readonly MuxConnection _connection;
    private readonly Lock _gate = new();
    private readonly Pipe _pipe = new(ReceivePipeOptions);
    private readonly MuxStreamReader _reader;
    private readonly AsyncSignal _sendSignal = new();
    private readonly TaskCompletionSource _writesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _receiveWindow;

    private int _writerActive;
    private bool _sendDone;
    private ConecException? _sendError;
    private bool _finReceived;
    private bool _resetReceived;
    private bool _readsStopped;
    private long _received;
    private long _receiveLimit;
    private long _unconsumed;
    private long _consumedSinceUpdate;
    private bool _released;
    private bool _writerCompleted;

    // Set once by a relay (under the gate): the stream whose send side takes received bytes while the pipe is empty.
    private MuxStream? _forwardTarget;
    private Action<long>? _onForwarded;

    // Bytes written to the pipe and not yet consumed by its reader. Examined-ahead credit makes _unconsumed unfit
    // for this: forwarding may only start when the pump has really taken everything.
    private long _pipeHeld;

    public MuxStream(MuxConnection connection, bool locallyInitiated, uint id, int sendWindow, int receiveWindow)
    {
        _connection = connection;
        LocallyInitiated = locallyInitiated;
        Id = id;
        SendLimit = sendWindow;
        _receiveWindow = receiveWindow;
        _receiveLimit = receiveWindow;
        _reader = new MuxStreamReader(_pipe.Reader, this);
    }

    /// <summary>Wire id; 0 until a locally opened stream sends its first frame.</summary>
    public uint Id { get; set; }

    public bool LocallyInitiated { get; }

    /// <summary>Absolute offset the peer allows us to reach; guarded by the connection's lock.</summary>
    public long SendLimit { get; set; }

    /// <summary>Bytes sent so far; guarded by the connection's lock.</summary>
    public long SendOffset { get; set; }

    public override PipeReader Input => _reader;

    public override Task WritesClosed => _writesClosed.Task;

    public override bool PeerSendingEnded
    {
        get
        {
            lock (_gate)
            {
                return _finReceived || _resetReceived || _connection.CloseError is not null;
            }
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken) =>
        WriteCoreAsync(new ContiguousBytes(data), completeWrites, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlySequence<byte> data, bool completeWrites, CancellationToken cancellationToken) =>
        data.IsSingleSegment
            ? WriteCoreAsync(new ContiguousBytes(data.First), completeWrites, cancellationToken)
            : WriteCoreAsync(new SegmentedBytes(data), completeWrites, cancellationToken);

    /// <summary>
    /// The write loop for either shape of data. Generic over a struct so that the common contiguous write costs no
    /// more than a loop written for it alone: a 64-byte message pays for every nanosecond spent here.
    /// </summary>
    private async ValueTask WriteCoreAsync<TBytes>(TBytes data, bool completeWrites, CancellationToken cancellationToken)
        where TBytes : struct, IQueuedBytes<TBytes>
    {
        if (Interlocked.Exchange(ref _writerActive, 1) == 1)
        {
            throw new InvalidOperationException("Another write is already in progress on this stream.");
        }

        try
        {
            while (true)
            {
                var streamWait = _sendSignal.Current;
                var connectionWait = _connection.CreditChanged;
                if (data.IsEmpty)
                {
                    lock (_gate)
                    {
                        ThrowIfCannotSend();
                        if (completeWrites)
                        {
                            FinishLocked();
                        }
                    }

                    MaybeRelease();
                    return;
                }

                int granted;
                lock (_gate)
                {
                    ThrowIfCannotSend();
                    granted = data.Queue(_connection, this, completeWrites, out var fin);
                    if (fin)
                    {
                        _sendDone = true;
                        _writesClosed.TrySetResult();
                    }
                }

                if (granted == 0)
                {
                    await Task.WhenAny(streamWait, connectionWait).WaitAsync(cancellationToken);
                    continue;
                }

                data = data.Skip(granted);
                if (data.IsEmpty)
                {
                    if (completeWrites)
                    {
                        MaybeRelease();
                    }

                    return;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _writerActive, 0);
        }
    }

    public override bool TryForwardReceivedTo(TransportStream target, Action<long> onForwarded)
    {
        if (target is not MuxStream stream)
        {
            return false;
        }

        lock (_gate)
        {
            _onForwarded = onForwarded;
            _forwardTarget = stream;
        }

        return true;
    }

    /// <summary>
    /// Queues as much of a forwarded body as credit allows and returns how much: none when the send side is done or
    /// a write is in progress (the relay's pump is behind, and the body must follow what it holds).
    /// </summary>
    internal int QueueForwarded(in ReadOnlySequence<byte> body)
    {
        if (Interlocked.CompareExchange(ref _writerActive, 1, 0) != 0)
        {
            return 0;
        }

        try
        {
            lock (_gate)
            {
                return _sendDone || _sendError is not null || _connection.CloseError is not null
                    ? 0
                    : _connection.QueueAvailable(this, body);
            }
        }
        finally
        {
            Volatile.Write(ref _writerActive, 0);
        }
    }

    public override void CompleteWrites()
    {
        lock (_gate)
        {
            if (_sendDone)
            {
                return;
            }

            FinishLocked();
        }

        MaybeRelease();
    }

    public override void AbortWrite(long errorCode)
    {
        lock (_gate)
        {
            if (_sendDone)
            {
                return;
            }

            _sendDone = true;
            _sendError = new ConecException(ConecError.StreamClosed, $"The stream's sending side was aborted locally (code {errorCode}).", errorCode, null);
            _connection.SendResetStream(this, errorCode);
            _writesClosed.TrySetException(_sendError);
        }

        _sendSignal.Pulse();
        MaybeRelease();
    }

    public override void AbortRead(long errorCode)
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
                _connection.SendStopSending(this, errorCode);
            }

            CompleteReceive(new ConecException(ConecError.StreamClosed, "Reading was stopped locally.", errorCode, null));
        }

        _connection.OnBytesConsumed(credit);
        MaybeRelease();
    }

    public override ValueTask DisposeAsync()
    {
        CompleteWrites();
        AbortRead(0);
        _pipe.Reader.Complete();
        return ValueTask.CompletedTask;
    }

    internal void OnPeerStopSending(long errorCode)
    {
        lock (_gate)
        {
            if (_sendDone)
            {
                return;
            }

            // RFC 9000 §3.5: an endpoint that receives STOP_SENDING answers with RESET_STREAM carrying the same code.
            _sendDone = true;
            _sendError = new ConecException(ConecError.StreamStopped, $"The peer stopped reading the stream (code {errorCode}).", errorCode, null);
            _connection.SendResetStream(this, errorCode);
            _writesClosed.TrySetException(_sendError);
        }

        _sendSignal.Pulse();
        MaybeRelease();
    }

    internal void OnSendCredit(long limit)
    {
        _connection.RaiseSendLimit(this, limit);
        _sendSignal.Pulse();
    }

    internal void OnConnectionClosed(ConecException error)
    {
        lock (_gate)
        {
            _sendError ??= _sendDone ? null : error;
            if (!_finReceived && !_resetReceived && !_readsStopped)
            {
                CompleteReceive(error);
            }

            _writesClosed.TrySetException(error);
        }

        _sendSignal.Pulse();
    }

    private void FinishLocked()
    {
        _sendDone = true;
        _connection.SendFin(this);
        _writesClosed.TrySetResult();
    }

    private void ThrowIfCannotSend()
    {
        if (_sendError is not null)
        {
            throw _sendError;
        }

        if (_connection.CloseError is { } closed)
        {
            throw closed;
        }

        if (_sendDone)
        {
            throw new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.");
        }
    }

    private void MaybeRelease()
    {
        lock (_gate)
        {
            if (_released || !_sendDone || !(_finReceived || _resetReceived || _readsStopped))
            {
                return;
            }

            _released = true;
        }

        _connection.Release(this);
    }
}
