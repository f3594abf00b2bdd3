using System.Buffers;
using System.IO.Pipelines;
using Conec.Concurrency;

namespace Conec.Transport.Tcp;

/// <summary>
/// One multiplexed stream: its send direction (writes queued as credit allows, finish, reset, stop-sending from the
/// peer) and when both directions have ended; the receive direction is its <see cref="MuxStreamReader"/>.
/// </summary>
internal sealed class MuxStream : TransportStream, IReceiveForwarding
{
    private readonly MuxStreamTable _streams;
    private readonly MuxSendQueue _send;
    private readonly Lock _gate = new();
    private readonly MuxStreamReader _reader;
    private readonly AsyncSignal _sendSignal = new();
    private readonly TaskCompletionSource _writesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _writerActive;
    private bool _sendDone;
    private ConecException? _sendError;
    private bool _released;

    public MuxStream(MuxStreamTable streams, MuxSendQueue send, bool locallyInitiated, uint id, int sendWindow, int receiveWindow)
    {
        _streams = streams;
        _send = send;
        LocallyInitiated = locallyInitiated;
        Id = id;
        SendLimit = sendWindow;
        _reader = new MuxStreamReader(this, _gate, streams, send, receiveWindow);
    }

    /// <summary>Wire id; 0 until a locally opened stream sends its first frame.</summary>
    public uint Id { get; set; }

    public bool LocallyInitiated { get; }

    /// <summary>Absolute offset the peer allows us to reach; guarded by the send queue's lock.</summary>
    public long SendLimit { get; set; }

    /// <summary>Bytes sent so far; guarded by the send queue's lock.</summary>
    public long SendOffset { get; set; }

    /// <summary>Which lane this stream's waiting frames are in (see <see cref="MuxSendQueue"/>); guarded by its lock.</summary>
    public MuxLaneState Lane;

    /// <summary>The table this stream is in; the send queue adds a local stream to it when it assigns the id.</summary>
    public MuxStreamTable Table => _streams;

    /// <summary>The receive direction, which the reader loop hands data frames to.</summary>
    public MuxStreamReader Reader => _reader;

    public override PipeReader Input => _reader;

    public override Task WritesClosed => _writesClosed.Task;

    public override bool PeerSendingEnded => _reader.PeerSendingEnded;

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
                var connectionWait = _send.CreditChanged;
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
                    granted = data.Queue(_send, this, completeWrites, out var fin);
                    if (fin)
                    {
                        _sendDone = true;
                        _writesClosed.TrySetResult();
                    }
                }

                _send.RunClaimedWriter();
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

    /// <summary>Lets a relay have this stream's received bytes queued straight on <paramref name="target"/> (see <see cref="IReceiveForwarding"/>).</summary>
    public bool TryForwardReceivedTo(TransportStream target, Action<long> onForwarded)
    {
        if (target is not MuxStream stream)
        {
            return false;
        }

        _reader.ForwardTo(stream, onForwarded);
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
            int queued;
            lock (_gate)
            {
                queued = _sendDone || _sendError is not null || _streams.CloseError is not null
                    ? 0
                    : _send.QueueAvailable(this, body);
            }

            _send.RunClaimedWriter();
            return queued;
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
            _send.SendResetStream(this, errorCode);
            _writesClosed.TrySetException(_sendError);
        }

        _sendSignal.Pulse();
        MaybeRelease();
    }

    public override void AbortRead(long errorCode) => _reader.StopReading(errorCode);

    public override ValueTask DisposeAsync()
    {
        CompleteWrites();
        AbortRead(0);
        _reader.CompletePipe();
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
            _send.SendResetStream(this, errorCode);
            _writesClosed.TrySetException(_sendError);
        }

        _sendSignal.Pulse();
        MaybeRelease();
    }

    internal void OnSendCredit(long limit)
    {
        _send.RaiseSendLimit(this, limit);
        _sendSignal.Pulse();
    }

    internal void OnConnectionClosed(ConecException error)
    {
        lock (_gate)
        {
            _sendError ??= _sendDone ? null : error;
            _reader.FailLocked(error);

            _writesClosed.TrySetException(error);
        }

        _sendSignal.Pulse();
    }

    private void FinishLocked()
    {
        _sendDone = true;
        _send.SendFin(this);
        _writesClosed.TrySetResult();
    }

    private void ThrowIfCannotSend()
    {
        if (_sendError is not null)
        {
            throw _sendError;
        }

        if (_streams.CloseError is { } closed)
        {
            throw closed;
        }

        if (_sendDone)
        {
            throw new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.");
        }
    }

    /// <summary>Leaves the stream table once both directions have ended.</summary>
    internal void MaybeRelease()
    {
        lock (_gate)
        {
            if (_released || !_sendDone || !_reader.HasEndedLocked)
            {
                return;
            }

            _released = true;
        }

        _streams.Release(this);
    }
}
