using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>
/// Accepts TCP sockets and runs each TLS handshake on its own task, so a peer that stalls its handshake holds
/// only its own slot until the handshake timeout, never the accept loop.
/// </summary>
internal sealed partial class TcpTransportListener : TransportListener
{
    private readonly Socket _socket;
    private readonly TransportServerTls _tls;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _acceptLoop;

    private TcpTransportListener(Socket socket, TransportServerTls tls, TransportSettings settings, ILogger logger)
    {
        _socket = socket;
        _tls = tls;
        _settings = settings;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public override IPEndPoint LocalEndPoint { get; }

    public static TcpTransportListener Listen(IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, ILogger logger)
    {
        settings.Validate();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ConecException(ConecError.AddressInUse, $"Cannot listen on TCP {endPoint}: {e.Message}", e);
        }

        return new TcpTransportListener(socket, tls, settings, logger);
    }

    public override async ValueTask<TransportConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken);
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
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var handshakes = new HashSet<Task>();
        try
        {
            while (true)
            {
                var socket = await _socket.AcceptAsync(_stopping.Token);
                var handshake = HandshakeAsync(socket);
                lock (handshakes)
                {
                    handshakes.Add(handshake);
                }

                _ = handshake.ContinueWith(done =>
                {
                    lock (handshakes)
                    {
                        handshakes.Remove(done);
                    }
                }, TaskScheduler.Default);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            Log.AcceptStopped(_logger, LocalEndPoint, e.Message);
        }

        Task[] pending;
        lock (handshakes)
        {
            pending = [.. handshakes];
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Never throws: a failed handshake is logged with its reason and the socket closed.</summary>
    private async Task HandshakeAsync(Socket socket)
    {
        socket.NoDelay = true;
        var remote = socket.RemoteEndPoint as IPEndPoint;
        var failure = new HandshakeFailure { RefuseAfterHandshake = true };
        var records = new RecordCoalescingStream(new NetworkStream(socket, ownsSocket: true));
        var ssl = new SslStream(records, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_settings.HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(TransportTls.ServerOptions(_tls, failure), timeout.Token);
            if (failure.Reason is not null)
            {
                await RefuseAsync(ssl, socket, failure.Reason, timeout.Token);
                Log.HandshakeFailed(_logger, remote, failure.Reason);
                await ssl.DisposeAsync();
                return;
            }

            var connection = await MuxConnection.StartAsync(socket, records, ssl, isClient: false, _settings, _logger, timeout.Token);
            await _ready.Writer.WriteAsync(connection, _stopping.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ConecException or ChannelClosedException)
        {
            var reason = failure.Reason ?? (e is OperationCanceledException && !_stopping.IsCancellationRequested
                ? $"the handshake did not finish within {_settings.HandshakeTimeout.TotalSeconds:0.###} s"
                : e.Message);
            Log.HandshakeFailed(_logger, remote, reason);
            await ssl.DisposeAsync();
        }
    }

    /// <summary>
    /// Tells a client whose certificate was refused why, in a CLOSE frame marked as a refusal, then closes once the
    /// client has read it: sending first and waiting for the client's end keeps a reset from destroying the frame.
    /// </summary>
    private static async Task RefuseAsync(SslStream ssl, Socket socket, string reason, CancellationToken cancellationToken)
    {
        await ssl.WriteAsync(MuxFrame.EncodeClose(0, $"the client certificate was refused: {reason}", MuxFrame.RefusedFlag), cancellationToken);
        await ssl.FlushAsync(cancellationToken);
        socket.Shutdown(SocketShutdown.Send);
        var discard = new byte[1024];
        while (await ssl.ReadAsync(discard, cancellationToken) > 0)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Refused a TCP connection from {RemoteEndPoint}: {Reason}")]
        public static partial void HandshakeFailed(ILogger logger, IPEndPoint? remoteEndPoint, string reason);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "TCP listener on {LocalEndPoint} stopped accepting: {Reason}")]
        public static partial void AcceptStopped(ILogger logger, IPEndPoint localEndPoint, string reason);
    }
}
