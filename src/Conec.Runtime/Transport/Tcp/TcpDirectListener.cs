using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>
/// A client's direct-channel listener over TCP. Its port is shared (SO_REUSEADDR, which on Linux also sets
/// SO_REUSEPORT) with the client's coordinator connection and its hole-punching connects, so the port the
/// coordinator observes leads here. Each accepted socket is first offered to a claim callback: a socket that
/// belongs to a punch is handed over raw (its TLS role is decided by ids, not by who dialled), with the way back to
/// the ordinary server handshake for a claim that turns out otherwise; any other socket gets that handshake at once.
/// </summary>
internal sealed partial class TcpDirectListener : TransportListener
{
    private readonly Socket _socket;
    private readonly TransportServerTls _tls;
    private readonly TransportSettings _settings;
    private readonly Func<Socket, Action<Socket>, bool> _claim;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(
        new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.Wait });
    private readonly Concurrency.TaskGroup _handshakes;
    private readonly Diagnostics.LogThrottle _acceptWarnings = new();
    private readonly Task _acceptLoop;

    private TcpDirectListener(Socket socket, TransportServerTls tls, TransportSettings settings, Func<Socket, Action<Socket>, bool> claim, ILogger logger)
    {
        _socket = socket;
        _tls = tls;
        _settings = settings;
        _claim = claim;
        _logger = logger;
        _handshakes = new Concurrency.TaskGroup(e => Log.HandshakeFailed(logger, null, e.Message));
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public override IPEndPoint LocalEndPoint { get; }

    public static TcpDirectListener Listen(IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, Func<Socket, Action<Socket>, bool> claim, ILogger logger)
    {
        settings.Validate();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(64);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ConecException(ConecError.AddressInUse, $"Cannot listen on TCP {endPoint}: {e.Message}", e);
        }

        return new TcpDirectListener(socket, tls, settings, claim, logger);
    }

    public override async ValueTask<TransportConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException e) when (e.InnerException is ConecException failed)
        {
            throw new ConecException(failed.Error, failed.Message, failed);
        }
        catch (ChannelClosedException e)
        {
            throw new ConecException(ConecError.ConnectionAborted, "The listener was disposed.", e);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _socket.Dispose();
        await _acceptLoop;
        await _handshakes.WhenAllAsync();
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync();
        }

        _stopping.Dispose();
    }

    /// <summary>
    /// Accepts until disposed. A failed accept that a retry can fix (no descriptor or buffer left, a connection reset
    /// before it was taken) is logged, rate-limited, and retried after a growing pause, as on the coordinator's listener.
    /// </summary>
    private async Task AcceptLoopAsync()
    {
        var backoff = new AcceptBackoff();
        try
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _socket.AcceptAsync(_stopping.Token);
                }
                catch (SocketException e) when (TcpTransportListener.IsTransient(e.SocketErrorCode) && !_stopping.IsCancellationRequested)
                {
                    if (_acceptWarnings.ShouldLog(out var suppressed))
                    {
                        Log.AcceptFailing(_logger, LocalEndPoint, e.SocketErrorCode, e.Message, backoff.Next.TotalMilliseconds, suppressed);
                    }

                    await backoff.WaitAsync(_stopping.Token);
                    continue;
                }

                backoff.Reset();
                if (!_claim(socket, Handshake))
                {
                    Handshake(socket);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Disposal, or a listening socket that broke for good: either way nothing more is accepted here.
            Log.AcceptStopped(_logger, LocalEndPoint, e.Message);
            _ready.Writer.TryComplete(_stopping.IsCancellationRequested ? null
                : new ConecException(ConecError.ConnectionLost, $"The direct TCP listener on {LocalEndPoint} stopped accepting: {e.Message}", e));
        }
    }

    /// <summary>Gives a socket the ordinary server handshake; a claim that turns out not to be a punch hands it back here.</summary>
    private void Handshake(Socket socket)
    {
        if (_stopping.IsCancellationRequested)
        {
            socket.Dispose();
            return;
        }

        _handshakes.Run(() => HandshakeAsync(socket));
    }

    private async Task HandshakeAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        try
        {
            var connection = await TcpHandshake.AsServerAsync(socket, _tls, _settings, _logger, _stopping.Token);
            try
            {
                await _ready.Writer.WriteAsync(connection, _stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                await connection.DisposeAsync();
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            Log.HandshakeFailed(_logger, remote, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1310, Level = LogLevel.Information, Message = "Refused a direct TCP connection from {RemoteEndPoint}: {Reason}")]
        public static partial void HandshakeFailed(ILogger logger, IPEndPoint? remoteEndPoint, string reason);

        [LoggerMessage(EventId = 1311, Level = LogLevel.Debug, Message = "Direct TCP listener on {LocalEndPoint} stopped accepting: {Reason}")]
        public static partial void AcceptStopped(ILogger logger, IPEndPoint localEndPoint, string reason);

        [LoggerMessage(EventId = 1312, Level = LogLevel.Warning, Message = "Direct TCP listener on {LocalEndPoint} could not accept ({Error}: {Reason}); retrying in {DelayMs} ms ({Suppressed} more like it not logged)")]
        public static partial void AcceptFailing(ILogger logger, IPEndPoint localEndPoint, SocketError error, string reason, double delayMs, int suppressed);
    }
}
