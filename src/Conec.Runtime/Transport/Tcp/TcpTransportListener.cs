using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Conec.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>
/// Accepts TCP sockets and runs each TLS handshake on its own task, so a peer that stalls its handshake holds
/// only its own slot until the handshake timeout, never the accept loop. The loop ends only at disposal: a
/// transient accept failure (no descriptor or buffer left, a connection reset while queued) is logged, waited out
/// and retried; anything else ends it with an error that <see cref="AcceptConnectionAsync"/> then reports.
/// </summary>
internal sealed partial class TcpTransportListener : TransportListener
{
    /// <summary>Queued connections closed in one round while out of descriptors, so the loop still checks its spares.</summary>
    private const int DrainBatch = 64;

    private readonly Socket _socket;
    private readonly TransportServerTls _tls;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly ConnectionBudget? _budget;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });
    private readonly HashSet<Task> _handshakes = [];
    private readonly LogThrottle _acceptWarnings = new();
    private readonly LogThrottle _refusalWarnings = new();
    private readonly Task _acceptLoop;

    private TcpTransportListener(Socket socket, TransportServerTls tls, TransportSettings settings, ConnectionBudget? budget, ILogger logger)
    {
        _socket = socket;
        _tls = tls;
        _settings = settings;
        _budget = budget;
        _logger = logger;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        if (!SpareDescriptors.TryTake())
        {
            Log.NoSpares(logger, LocalEndPoint, "descriptors are already short; they are taken once some are free");
        }

        _acceptLoop = AcceptLoopAsync();
    }

    public override IPEndPoint LocalEndPoint { get; }

    /// <summary>Listens under the coordinator's <paramref name="budget"/>, or admits whatever connects without one (a client's direct channels).</summary>
    public static TcpTransportListener Listen(IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, ConnectionBudget? budget, ILogger logger)
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

        return new TcpTransportListener(socket, tls, settings, budget, logger);
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
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync();
            _budget?.Release();
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var backoff = new AcceptBackoff();
        var outOfDescriptors = false;
        try
        {
            while (true)
            {
                if (outOfDescriptors)
                {
                    // Accepting resumes once the spares are back with as many to spare: connections closed meanwhile.
                    if (!SpareDescriptors.TryTake(surplus: SpareDescriptors.Count))
                    {
                        await DrainAsync();
                        await backoff.WaitAsync(_stopping.Token);
                        continue;
                    }

                    outOfDescriptors = false;
                    Log.DescriptorsBack(_logger, LocalEndPoint);
                }

                Socket socket;
                try
                {
                    socket = await _socket.AcceptAsync(_stopping.Token);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TooManyOpenSockets && !_stopping.IsCancellationRequested)
                {
                    // First of all: give the descriptors kept for this moment back to the rest of the process.
                    SpareDescriptors.Release();
                    outOfDescriptors = true;
                    WarnAcceptFailed(e, "no descriptor is left; queued connections are closed until some are freed");
                    if (SpareDescriptors.UnavailableReason is not null)
                    {
                        await backoff.WaitAsync(_stopping.Token); // no spares to wait for: pace the retries instead
                    }

                    continue;
                }
                catch (SocketException e) when (IsTransient(e.SocketErrorCode) && !_stopping.IsCancellationRequested)
                {
                    WarnAcceptFailed(e, $"retrying in {backoff.Next.TotalMilliseconds:0} ms");
                    await backoff.WaitAsync(_stopping.Token);
                    continue;
                }

                backoff.Reset();
                Admit(socket);
            }
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            Log.AcceptStopped(_logger, LocalEndPoint, e.Message);
        }
        catch (Exception e)
        {
            // Not a failure a retry can fix (the socket itself broke): the owner learns it from AcceptConnectionAsync.
            Log.AcceptFailed(_logger, LocalEndPoint, e);
            _ready.Writer.TryComplete(new ConecException(ConecError.ConnectionLost, $"The TCP listener on {LocalEndPoint} stopped accepting: {e.Message}", e));
        }

        Task[] pending;
        lock (_handshakes)
        {
            pending = [.. _handshakes];
        }

        await Task.WhenAll(pending);
    }

    /// <summary>
    /// Errors of one queued connection or a passing shortage; Linux's accept also reports errors pending on the new
    /// connection (ENETDOWN, EPROTO, EHOSTUNREACH and the like), to be retried. Only a broken listening socket is not.
    /// </summary>
    /// <summary>Whether an accept that failed with <paramref name="error"/> can succeed when retried (the listener itself is intact).</summary>
    internal static bool IsTransient(SocketError error) => error is not (SocketError.InvalidArgument or SocketError.NotSocket
        or SocketError.Fault or SocketError.OperationAborted or SocketError.Shutdown);

    /// <summary>
    /// Out of descriptors: accepts what is queued and closes it at once (a reset), each on one of the descriptors just
    /// given back, so those clients learn now instead of at their connect timeout.
    /// </summary>
    private async Task DrainAsync()
    {
        for (var closed = 0; closed < DrainBatch && _socket.Poll(0, SelectMode.SelectRead); closed++)
        {
            Socket queued;
            try
            {
                queued = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (SocketException e) when (!_stopping.IsCancellationRequested)
            {
                WarnAcceptFailed(e, "still out of descriptors");
                return;
            }

            _budget?.CountRefusal(RefusalReasons.OutOfDescriptors);
            WarnRefused(queued, "the process has no descriptor left; closed at once");
            Abort(queued);
        }
    }

    private void WarnAcceptFailed(SocketException e, string action)
    {
        if (_acceptWarnings.ShouldLog(out var suppressed))
        {
            Log.AcceptFailing(_logger, LocalEndPoint, e.SocketErrorCode, e.Message, action, suppressed);
        }
    }

    /// <summary>Closes a socket with a reset: the peer learns at once, and no TIME_WAIT is left behind.</summary>
    private void Abort(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException e)
        {
            Log.AbortFailed(_logger, e.Message);
        }

        socket.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Refused a TCP connection from {RemoteEndPoint}: {Reason}")]
        public static partial void HandshakeFailed(ILogger logger, IPEndPoint? remoteEndPoint, string reason);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "TCP listener on {LocalEndPoint} stopped accepting: {Reason}")]
        public static partial void AcceptStopped(ILogger logger, IPEndPoint localEndPoint, string reason);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning,
            Message = "TCP accept on {LocalEndPoint} failed ({Error}: {Reason}); {Action} ({Suppressed} more such failures in the last second)")]
        public static partial void AcceptFailing(ILogger logger, IPEndPoint localEndPoint, SocketError error, string reason, string action, int suppressed);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "TCP listener on {LocalEndPoint} can no longer accept")]
        public static partial void AcceptFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "TCP listener on {LocalEndPoint} accepts again: descriptors were freed")]
        public static partial void DescriptorsBack(ILogger logger, IPEndPoint localEndPoint);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Warning,
            Message = "Refused a TCP connection from {RemoteEndPoint}: {Reason} ({Suppressed} more such refusals in the last second)")]
        public static partial void Refused(ILogger logger, IPEndPoint? remoteEndPoint, string reason, int suppressed);

        [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Could not set a reset on a socket being closed: {Reason}")]
        public static partial void AbortFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "TCP listener on {LocalEndPoint} keeps no spare descriptors: {Reason}")]
        public static partial void NoSpares(ILogger logger, IPEndPoint localEndPoint, string reason);
    }
}
