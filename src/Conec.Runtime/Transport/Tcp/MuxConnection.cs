using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Conec.Concurrency;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>
/// A TLS 1.3 connection over TCP that carries many independent streams with QUIC's semantics (see
/// docs/protocol.md, "TCP multiplexer"). One reader loop parses frames, one writer loop sends coalesced frames,
/// one timer loop runs keep-alive and the idle timeout; the connection owns all three.
/// </summary>
internal sealed partial class MuxConnection : TransportConnection
{
    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly RecordCoalescingStream _records;
    private readonly bool _isClient;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly X509Certificate2 _remoteCertificate;
    private readonly IPEndPoint _remoteEndPoint;
    private readonly IPEndPoint _localEndPoint;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<ConecException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _settingsReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<MuxStream> _accepted = Channel.CreateUnbounded<MuxStream>(new UnboundedChannelOptions { SingleWriter = true });

    // Guarded by _sync: the stream table, receive credit and stream counters (send credit is under _sendLock). Lock order: stream gate, then _sendLock, then _sync.
    private readonly Lock _sync = new();
    private TaskCompletionSource? _closing;
    private TaskCompletionSource? _disposal;
    private readonly Dictionary<uint, MuxStream> _streams = [];
    private readonly AsyncSignal _connectionCredit = new();
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

    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _timerLoop = Task.CompletedTask;

    private MuxConnection(Socket socket, RecordCoalescingStream records, SslStream ssl, bool isClient, TransportSettings settings, ILogger logger)
    {
        _socket = socket;
        _records = records;
        _ssl = ssl;
        _isClient = isClient;
        _settings = settings;
        _logger = logger;
        _remoteCertificate = ssl.RemoteCertificate as X509Certificate2
            ?? throw new ConecException(ConecError.HandshakeFailed, "The peer presented no certificate.");
        _remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        _localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _receiveLimit = settings.ConnectionReceiveWindow;
        _inboundLimit = settings.MaxInboundStreams;
        _nextLocalStreamId = isClient ? 1u : 2u;
        _nextPeerStreamId = isClient ? 2u : 1u;
        _lastReceived = Environment.TickCount64;
        _lastSent = _lastReceived;
    }

    public override X509Certificate2 RemoteCertificate => _remoteCertificate;

    public override IPEndPoint RemoteEndPoint => _remoteEndPoint;

    public override IPEndPoint LocalEndPoint => _localEndPoint;

    public override TransportMode Mode => TransportMode.Tcp;

    public override Task<ConecException> Closed => _closed.Task;

    internal TransportSettings Settings => _settings;

    /// <summary>
    /// Runs the multiplexer on an authenticated TLS stream: exchanges SETTINGS and returns once the peer's arrived,
    /// so a client whose certificate the server refused fails here rather than on its first stream.
    /// </summary>
    public static async Task<MuxConnection> StartAsync(Socket socket, RecordCoalescingStream records, SslStream ssl, bool isClient, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        if (ssl.NegotiatedApplicationProtocol != TransportTls.Alpn)
        {
            throw new ConecException(ConecError.HandshakeFailed, "The peer does not speak the 'conec' application protocol (ALPN).");
        }

        var connection = new MuxConnection(socket, records, ssl, isClient, settings, logger);
        connection.StartLoops();
        connection.SendSettings();
        try
        {
            await connection._settingsReceived.Task.WaitAsync(cancellationToken);
            return connection;
        }
        catch (Exception e)
        {
            // A timeout stays an OperationCanceledException, which the caller reports with its own deadline.
            var reason = e switch
            {
                ConecException { Error: not ConecError.ConnectionLost } conec => conec,
                OperationCanceledException => null,
                _ => new ConecException(ConecError.ConnectionLost, isClient
                    ? "The server closed the connection during the handshake without giving a reason."
                    : "The client ended the connection during the handshake.", e),
            };
            connection.Shutdown(reason ?? new ConecException(ConecError.Timeout, "The handshake did not finish in time.", e),
                sendClose: false, 0, string.Empty, transportError: false);
            await connection.DisposeAsync();
            if (reason is null)
            {
                throw;
            }

            throw reason;
        }
    }

    public override async ValueTask<TransportStream> OpenStreamAsync(CancellationToken cancellationToken)
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
                    return new MuxStream(this, locallyInitiated: true, id: 0, _peerStreamWindow, _settings.StreamReceiveWindow);
                }
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    public override async ValueTask<TransportStream> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException e) when (e.InnerException is ConecException closed)
        {
            throw closed;
        }
    }

    public override async ValueTask CloseAsync(long errorCode, string reason, CancellationToken cancellationToken) =>
        await Closing(new ConecException(ConecError.ConnectionAborted, $"The connection was closed locally (code {errorCode}): {reason}", errorCode, null),
            errorCode, reason).WaitAsync(cancellationToken);

    /// <summary>Idempotent: concurrent and repeated calls (and a close already under way) share one disposal.</summary>
    public override ValueTask DisposeAsync()
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _disposal, mine, null) is { } existing)
        {
            return new ValueTask(existing.Task);
        }

        _ = CompleteAsync(mine, async () =>
        {
            await Closing(new ConecException(ConecError.ConnectionAborted, "The connection was disposed.", 0, null), 0, "disposed");
            _lifetime.Dispose();
        });
        return new ValueTask(mine.Task);
    }

    /// <summary>The first close or disposal shuts the connection down and waits for its loops; later ones wait for that.</summary>
    private Task Closing(ConecException error, long code, string reason)
    {
        // Started outside every lock: shutting down takes the send lock, which must never be taken under _sync.
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _closing, mine, null) is { } existing)
        {
            return existing.Task;
        }

        _ = CompleteAsync(mine, async () =>
        {
            Shutdown(error, sendClose: true, code, reason, transportError: false);
            await WaitForLoopsAsync(CancellationToken.None);
        });
        return mine.Task;
    }

    /// <summary>Runs <paramref name="work"/> and passes its outcome, failure included, to <paramref name="completion"/>.</summary>
    private static async Task CompleteAsync(TaskCompletionSource completion, Func<Task> work)
    {
        try
        {
            await work();
            completion.SetResult();
        }
        catch (Exception e)
        {
            completion.SetException(e);
        }
    }

    /// <summary>
    /// Ends the connection once: records why, fails every stream and waiting caller, queues a CLOSE frame when
    /// asked, and lets the writer drain before the socket is shut.
    /// </summary>
    internal void Shutdown(ConecException error, bool sendClose, long code, string reason, bool transportError)
    {
        MuxStream[] streams;
        lock (_sync)
        {
            if (_closeError is not null)
            {
                return;
            }

            _closeError = error;
            streams = [.. _streams.Values];
            _streams.Clear();
        }

        Log.ConnectionClosed(_logger, _remoteEndPoint, error.Error, error.Message);
        if (sendClose)
        {
            SendClose(code, reason, transportError ? MuxFrame.Flag : error.Error == ConecError.ConnectionIdle ? MuxFrame.IdleFlag : (byte)0);
        }

        CloseSendBuffer();
        foreach (var stream in streams)
        {
            stream.OnConnectionClosed(error);
        }

        _accepted.Writer.TryComplete(error);
        _settingsReceived.TrySetException(error);
        _connectionCredit.Pulse();
        _streamCredit.Pulse();
        _closed.TrySetResult(error);
    }

    private void StartLoops()
    {
        _readLoop = ReadLoopAsync();
        _writeLoop = WriteLoopAsync();
        _timerLoop = TimerLoopAsync(_lifetime.Token);
    }

    private async Task WaitForLoopsAsync(CancellationToken cancellationToken)
    {
        // The writer drains the CLOSE frame and half-closes the socket; the peer then closes its side, which ends
        // our reader. A peer that never does is cut off after a second so disposal stays bounded.
        await _writeLoop.WaitAsync(cancellationToken);
        await Task.WhenAny(_readLoop, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
        await _lifetime.CancelAsync();
        _ssl.Dispose();
        _socket.Dispose();
        await _readLoop;
        await _timerLoop;
    }

    private async Task TimerLoopAsync(CancellationToken cancellationToken)
    {
        var idleMs = (long)_settings.IdleTimeout.TotalMilliseconds;
        var keepAliveMs = _settings.KeepAliveInterval is { } keepAlive ? (long)keepAlive.TotalMilliseconds : long.MaxValue;

        // Ticking at an eighth of the shorter period keeps a keep-alive well inside the idle timeout.
        var tick = TimeSpan.FromMilliseconds(Math.Max(10, Math.Min(idleMs, keepAliveMs) / 8));
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Environment.TickCount64;
                if (now - Volatile.Read(ref _lastReceived) > idleMs)
                {
                    Shutdown(new ConecException(ConecError.ConnectionIdle,
                        $"Nothing arrived from {_remoteEndPoint} for {_settings.IdleTimeout.TotalSeconds:0.###} s (idle timeout)."),
                        sendClose: true, 0, "idle timeout", transportError: false);
                    return;
                }

                if (now - Volatile.Read(ref _lastSent) >= keepAliveMs)
                {
                    SendPing(0, KeepAlivePayload);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection is being disposed; the timers have nothing left to guard.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "TCP connection with {RemoteEndPoint} closed ({Error}): {Reason}")]
        public static partial void ConnectionClosed(ILogger logger, IPEndPoint remoteEndPoint, ConecError error, string reason);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "TCP connection with {RemoteEndPoint} broke the protocol: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, IPEndPoint remoteEndPoint, string reason);
    }
}
