using System.Threading.Channels;
using Conec.Concurrency;

namespace Conec.Transport.Tcp;

/// <summary>
/// A connection's live streams by id, with the limits on opening them (MAX_STREAMS both ways) and the connection's
/// receive window (MAX_DATA we grant); it also records why the connection ended, which refuses new streams.
/// </summary>
/// <remarks>
/// Everything here is guarded by one lock. Lock order across the multiplexer: a stream's gate, then the send queue's
/// lock, then this one; the send queue adds a locally opened stream here when it assigns the stream's id.
/// </remarks>
internal sealed class MuxStreamTable
{
    private readonly Lock _sync = new();
    private readonly MuxSendQueue _send;
    private readonly TransportSettings _settings;
    private readonly bool _isClient;
    private readonly Dictionary<uint, MuxStream> _streams = [];
    private readonly Channel<MuxStream> _accepted = Channel.CreateUnbounded<MuxStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly AsyncSignal _streamCredit = new();
    private ConecException? _closeError;
    private long _receiveLimit;            // absolute connection offset we allow the peer to reach
    private long _received;                // connection bytes received
    private long _consumedSinceUpdate;     // bytes consumed or discarded since the last MAX_DATA
    private long _peerMaxStreams;          // streams the peer lets us open, cumulative
    private long _localOpened;             // streams we have opened, cumulative
    private long _inboundLimit;            // streams we let the peer open, cumulative
    private long _peerOpened;              // streams the peer has opened, cumulative
    private uint _nextPeerStreamId;
    private int _peerStreamWindow;

    public MuxStreamTable(MuxSendQueue send, bool isClient, TransportSettings settings)
    {
        _send = send;
        _isClient = isClient;
        _settings = settings;
        _receiveLimit = settings.ConnectionReceiveWindow;
        _inboundLimit = settings.MaxInboundStreams;
        _nextPeerStreamId = isClient ? 2u : 1u;
    }

    /// <summary>Why the connection ended, or null while it is open. Written under the lock, read without it.</summary>
    public ConecException? CloseError => Volatile.Read(ref _closeError);

    /// <summary>Peer-opened streams, in the order their first frames arrived.</summary>
    public ChannelReader<MuxStream> Accepted => _accepted.Reader;

    /// <summary>Opens a local stream once the peer's stream limit allows one more; it gets its id with its first frame.</summary>
    public async ValueTask<MuxStream> OpenAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var wait = _streamCredit.Current;
            lock (_sync)
            {
                if (_closeError is not null)
                {
                    throw _closeError;
                }

                if (_localOpened < _peerMaxStreams)
                {
                    _localOpened++;
                    return new MuxStream(this, _send, locallyInitiated: true, id: 0, _peerStreamWindow, _settings.StreamReceiveWindow);
                }
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Records a locally opened stream under the id the send queue has just given it (under its lock).</summary>
    public void AddLocal(MuxStream stream)
    {
        lock (_sync)
        {
            _streams[stream.Id] = stream;
        }
    }

    /// <summary>
    /// Finds the stream a frame addresses, creating a peer-opened stream on its first frame. Returns
    /// <see langword="null"/> for a stream that has already ended here (late frames are legal and dropped).
    /// </summary>
    public MuxStream? Find(MuxFrame frame)
    {
        var id = frame.StreamId;
        if (id == 0)
        {
            throw new MuxProtocolException($"a {frame.Type} frame addressed stream 0");
        }

        var peerOpened = (id & 1) == (_isClient ? 0u : 1u);
        MuxStream created;
        lock (_sync)
        {
            if (_streams.TryGetValue(id, out var existing))
            {
                return existing;
            }

            if (!peerOpened)
            {
                // Our ids are assigned before their first frame is written, so any id the peer can know is below this.
                return id < _send.NextLocalStreamId ? null : throw new MuxProtocolException($"stream {id} was never opened here");
            }

            if (id < _nextPeerStreamId)
            {
                return null;
            }

            if (id != _nextPeerStreamId)
            {
                throw new MuxProtocolException($"stream {id} opened out of order, expected {_nextPeerStreamId}");
            }

            if (_peerOpened >= _inboundLimit)
            {
                throw new MuxProtocolException($"the peer opened more than the {_inboundLimit} streams it was allowed");
            }

            _peerOpened++;
            _nextPeerStreamId += 2;
            created = new MuxStream(this, _send, locallyInitiated: false, id, _peerStreamWindow, _settings.StreamReceiveWindow);
            _streams[id] = created;
        }

        _accepted.Writer.TryWrite(created);
        return created;
    }

    /// <summary>Counts a DATA frame's bytes against the connection window we granted.</summary>
    public void OnDataReceived(int length)
    {
        lock (_sync)
        {
            _received += length;
            if (_received > _receiveLimit)
            {
                throw new MuxProtocolException($"the peer sent {_received} bytes, the connection window allowed {_receiveLimit}");
            }
        }
    }

    /// <summary>Returns connection credit for bytes the application consumed or that were discarded.</summary>
    public void OnBytesConsumed(long count)
    {
        long? update = null;
        lock (_sync)
        {
            _consumedSinceUpdate += count;

            // Granting credit in half-window steps keeps the sender busy without a frame per read.
            if (_closeError is null && _consumedSinceUpdate >= _settings.ConnectionReceiveWindow / 2)
            {
                _receiveLimit += _consumedSinceUpdate;
                _consumedSinceUpdate = 0;
                update = _receiveLimit;
            }
        }

        if (update is { } limit)
        {
            _send.SendMaxData(limit);
        }
    }

    /// <summary>Takes the peer's SETTINGS: the window its streams start with and how many we may open.</summary>
    public void SetPeerLimits(int streamWindow, long maxStreams)
    {
        lock (_sync)
        {
            _peerStreamWindow = streamWindow;
            _peerMaxStreams = maxStreams;
        }
    }

    /// <summary>Raises the number of streams we may open to the peer's new MAX_STREAMS; a stale one changes nothing.</summary>
    public void OnStreamLimit(long limit)
    {
        lock (_sync)
        {
            if (limit <= _peerMaxStreams)
            {
                return;
            }

            _peerMaxStreams = limit;
        }

        _streamCredit.Pulse();
    }

    /// <summary>Wakes openers waiting for the peer's stream limit.</summary>
    public void PulseStreamCredit() => _streamCredit.Pulse();

    /// <summary>Forgets a stream both of whose directions have ended, and lets the peer open another in its place.</summary>
    public void Release(MuxStream stream)
    {
        long? newLimit = null;
        lock (_sync)
        {
            if (!_streams.Remove(stream.Id) || stream.LocallyInitiated || _closeError is not null)
            {
                return;
            }

            _inboundLimit++;
            newLimit = _inboundLimit;
        }

        _send.SendMaxStreams(newLimit.Value);
    }

    /// <summary>Records why the connection ended and hands back the streams it still held; false if it had ended already.</summary>
    public bool TryClose(ConecException error, out MuxStream[] streams)
    {
        lock (_sync)
        {
            if (_closeError is not null)
            {
                streams = [];
                return false;
            }

            _closeError = error;
            streams = [.. _streams.Values];
            _streams.Clear();
            return true;
        }
    }

    /// <summary>Fails waiting and later accepts with the close error, once the streams themselves have been told.</summary>
    public void FailAccepts(ConecException error) => _accepted.Writer.TryComplete(error);
}
