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
/// docs/protocol.md, "TCP multiplexer"): its life from handshake to close, and its timers. It owns the three loops
/// (<see cref="MuxReadLoop"/>, <see cref="MuxWriteLoop"/>, keep-alive and idle timeout here), the stream table and
/// the send queue, and is the one place that shuts them all down.
/// </summary>
internal sealed partial class MuxConnection : TransportConnection
{
    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly X509Certificate2 _remoteCertificate;
    private readonly IPEndPoint _remoteEndPoint;
    private readonly IPEndPoint _localEndPoint;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<ConecException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _settingsReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MuxSendQueue _send;
    private readonly MuxStreamTable _streams;
    private readonly MuxReadLoop _reader;
    private readonly MuxWriteLoop _writer;
    private TaskCompletionSource? _closing;
    private TaskCompletionSource? _disposal;

    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private IDisposable? _timers;
    private int _idleExpired;

    private MuxConnection(Socket socket, RecordCoalescingStream records, SslStream ssl, bool isClient, TransportSettings settings, ILogger logger)
    {
        _socket = socket;
        _ssl = ssl;
        _settings = settings;
        _logger = logger;
        _remoteCertificate = ssl.RemoteCertificate as X509Certificate2
            ?? throw new ConecException(ConecError.HandshakeFailed, "The peer presented no certificate.");
        _remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        _localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        var now = Environment.TickCount64;
        _send = new MuxSendQueue(isClient, now);
        _streams = new MuxStreamTable(_send, isClient, settings);
        _reader = new MuxReadLoop(this, _streams, _send, ssl, now);
        _writer = new MuxWriteLoop(this, _send, socket, ssl, records, _lifetime.Token);
        _send.InlineWriter = _writer;
    }

    public override X509Certificate2 RemoteCertificate => _remoteCertificate;

    public override IPEndPoint RemoteEndPoint => _remoteEndPoint;

    public override IPEndPoint LocalEndPoint => _localEndPoint;

    public override TransportMode Mode => TransportMode.Tcp;

    public override Task<ConecException> Closed => _closed.Task;

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

        if (UnsentDataLimit.TryApply(socket) is { } unsentLimitFailure)
        {
            Log.UnsentDataNotLimited(logger, socket.RemoteEndPoint as IPEndPoint, unsentLimitFailure);
        }

        var connection = new MuxConnection(socket, records, ssl, isClient, settings, logger);
        connection.StartLoops();
        connection._send.SendSettings(settings);
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

    public override async ValueTask<TransportStream> OpenStreamAsync(CancellationToken cancellationToken) =>
        await _streams.OpenAsync(cancellationToken);

    public override async ValueTask<TransportStream> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _streams.Accepted.ReadAsync(cancellationToken);
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
        // Started outside every lock: shutting down takes the send queue's lock, which must never be taken under the stream table's.
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
        if (!_streams.TryClose(error, out var streams))
        {
            return;
        }

        _timers?.Dispose();
        Log.ConnectionClosed(_logger, _remoteEndPoint, error.Error, error.Message);
        if (sendClose)
        {
            _send.SendClose(code, reason, transportError ? MuxFrame.Flag : error.Error == ConecError.ConnectionIdle ? MuxFrame.IdleFlag : (byte)0);
        }

        _send.Close();
        foreach (var stream in streams)
        {
            stream.OnConnectionClosed(error);
        }

        _streams.FailAccepts(error);
        _settingsReceived.TrySetException(error);
        _send.PulseCredit();
        _streams.PulseStreamCredit();
        _closed.TrySetResult(error);
    }

    /// <summary>The reader loop found a broken frame: logged, then the connection closes with a transport CLOSE.</summary>
    internal void OnProtocolViolation(string reason)
    {
        Log.ProtocolViolation(_logger, _remoteEndPoint, reason);
        Shutdown(new ConecException(ConecError.ProtocolViolation, $"{_remoteEndPoint} broke the multiplexer protocol: {reason}"),
            sendClose: true, TransportCodes.CloseProtocolViolation, reason, transportError: true);
    }

    /// <summary>The peer's SETTINGS arrived: the handshake in <see cref="StartAsync"/> is done.</summary>
    internal void OnSettingsReceived() => _settingsReceived.TrySetResult();

    private void StartLoops()
    {
        _timers = StartTimers(); // first: a loop that fails at once shuts down, which leaves the sweep
        _readLoop = _reader.RunAsync(_lifetime.Token);
        _writeLoop = _writer.RunAsync();
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
    }

    /// <summary>
    /// Joins the sweep for this connection's tick: an eighth of the shorter of the idle timeout and the keep-alive
    /// interval, which keeps a keep-alive well inside the idle timeout.
    /// </summary>
    private IDisposable StartTimers()
    {
        var idleMs = (long)_settings.IdleTimeout.TotalMilliseconds;
        var keepAliveMs = _settings.KeepAliveInterval is { } keepAlive ? (long)keepAlive.TotalMilliseconds : long.MaxValue;
        var tick = TimeSpan.FromMilliseconds(Math.Max(10, Math.Min(idleMs, keepAliveMs) / 8));
        return ConnectionSweep.Register(tick, now =>
        {
            if (now - _reader.LastReceived > idleMs)
            {
                // Closing is real work, and the sweep serves every connection: it is queued, once.
                if (Interlocked.Exchange(ref _idleExpired, 1) == 0)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.Shutdown(new ConecException(ConecError.ConnectionIdle,
                        $"Nothing arrived from {connection._remoteEndPoint} for {connection._settings.IdleTimeout.TotalSeconds:0.###} s (idle timeout)."),
                        sendClose: true, 0, "idle timeout", transportError: false), this, preferLocal: false);
                }
            }
            else if (now - _send.LastSent >= keepAliveMs)
            {
                _send.SendKeepAlive();
            }
        });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "TCP connection with {RemoteEndPoint} closed ({Error}): {Reason}")]
        public static partial void ConnectionClosed(ILogger logger, IPEndPoint remoteEndPoint, ConecError error, string reason);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "TCP connection with {RemoteEndPoint} broke the protocol: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, IPEndPoint remoteEndPoint, string reason);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Unsent data on the TCP connection with {RemoteEndPoint} is not limited ({Reason}): small messages may wait behind bulk on a slow link")]
        public static partial void UnsentDataNotLimited(ILogger logger, IPEndPoint? remoteEndPoint, string reason);
    }
}
