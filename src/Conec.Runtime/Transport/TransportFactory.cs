using System.Net;
using System.Net.Sockets;
using System.Net.Quic;
using System.Runtime.Versioning;
using Conec.Transport.Quic;
using Conec.Transport.Tcp;
using Microsoft.Extensions.Logging;

namespace Conec.Transport;

/// <summary>Chooses and starts a transport for a <see cref="TransportMode"/>.</summary>
internal static partial class TransportFactory
{
    /// <summary>
    /// How long a client in <see cref="TransportMode.Auto"/> gives QUIC before racing TCP. A loopback or LAN QUIC
    /// handshake finishes well inside it; a blocked UDP path costs users only this much.
    /// </summary>
    internal static readonly TimeSpan QuicHeadStart = TimeSpan.FromMilliseconds(300);

    /// <summary>Why <see cref="TransportMode.Auto"/> uses TCP alone where <see cref="IsQuicSupported"/> is false.</summary>
    private const string QuicMissing = "System.Net.Quic reports QUIC unsupported; on Linux and macOS it needs libmsquic";

    /// <summary>Whether QUIC can be used here (libmsquic present and the OS supported).</summary>
    [SupportedOSPlatformGuard("windows")]
    [SupportedOSPlatformGuard("linux")]
    [SupportedOSPlatformGuard("macos")]
    public static bool IsQuicSupported => QuicListener.IsSupported && QuicConnection.IsSupported;

    /// <summary>Listens under <paramref name="budget"/>, the coordinator's limits shared by every listener started here; null admits whatever connects.</summary>
    public static Task<TransportListener> ListenAsync(TransportMode mode, IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings,
        ConnectionBudget? budget, ILogger logger, CancellationToken cancellationToken) =>
        ListenAsync(mode, endPoint, tls, settings, budget, claimTcp: null, logger, cancellationToken);

    /// <summary>
    /// As the overload without it; with <c>claimTcp</c>, TCP is accepted by a <see cref="TcpDirectListener"/> whose
    /// port outgoing connections may share, and which offers each accepted socket to that callback before its TLS
    /// handshake (hole punching claims its own).
    /// </summary>
    public static async Task<TransportListener> ListenAsync(TransportMode mode, IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings,
        ConnectionBudget? budget, Func<Socket, Action<Socket>, bool>? claimTcp, ILogger logger, CancellationToken cancellationToken)
    {
        TransportListener ListenTcp(IPEndPoint at) => claimTcp is null
            ? TcpTransportListener.Listen(at, tls, settings, budget, logger)
            : TcpDirectListener.Listen(at, tls, settings, claimTcp, logger);

        switch (mode)
        {
            case TransportMode.Tcp:
                return ListenTcp(endPoint);
            case TransportMode.Quic when IsQuicSupported:
                return await ListenQuicAsync(endPoint, tls, settings, budget, logger, cancellationToken);
            case TransportMode.Quic:
                throw QuicUnsupported();
            case TransportMode.Auto when IsQuicSupported:
                return await ListenOnBothAsync(endPoint, tls, settings, budget, ListenTcp, logger, cancellationToken);

            case TransportMode.Auto:
                var tcp = ListenTcp(endPoint);
                Log.ListeningWithoutQuic(logger, tcp.LocalEndPoint, QuicMissing);
                return tcp;
            default:
                throw new ConecException(ConecError.InvalidConfiguration, $"Unknown transport mode {mode}.");
        }
    }

    /// <summary>
    /// QUIC alone. With port 0, msquic can end up on a UDP port that another QUIC socket of this process shares, and
    /// then reports our ALPN as already in use there (seen once in a process holding a QUIC coordinator and 1,000
    /// QUIC clients, each with its direct-channel listener); another port is tried, a few times, before giving up.
    /// </summary>
    [SupportedOSPlatform("windows")]
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    private static async Task<TransportListener> ListenQuicAsync(
        IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, ConnectionBudget? budget, ILogger logger, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await QuicTransportListener.ListenAsync(endPoint, tls, settings, budget, logger, cancellationToken);
            }
            catch (ConecException e) when (e.Error == ConecError.AddressInUse && endPoint.Port == 0 && attempt < 5)
            {
                Log.ListenRetry(logger, endPoint, e.Message);
            }
        }
    }

    /// <summary>
    /// QUIC and TCP on one port number. With port 0 the OS picks a free TCP port, which some UDP socket may already
    /// hold; then another port is tried, a few times, before giving up.
    /// </summary>
    [SupportedOSPlatform("windows")]
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    private static async Task<TransportListener> ListenOnBothAsync(IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings,
        ConnectionBudget? budget, Func<IPEndPoint, TransportListener> listenTcp, ILogger logger, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var tcp = listenTcp(endPoint);
            try
            {
                var quic = await QuicTransportListener.ListenAsync(tcp.LocalEndPoint, tls, settings, budget, logger, cancellationToken);
                return new CombinedTransportListener(quic, tcp, budget);
            }
            catch (ConecException e) when (e.Error == ConecError.AddressInUse && endPoint.Port == 0 && attempt < 5)
            {
                Log.ListenRetry(logger, tcp.LocalEndPoint, e.Message);
                await tcp.DisposeAsync();
            }
            catch
            {
                await tcp.DisposeAsync();
                throw;
            }
        }
    }

    public static Task<TransportConnection> ConnectAsync(
        TransportMode mode, IPEndPoint remote, IPEndPoint? local, TransportClientTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken) =>
        ConnectAsync(mode, remote, local, null, tls, settings, logger, cancellationToken);

    /// <summary>
    /// As the overload without it; <c>sharedTcpLocal</c> is where a TCP attempt binds, its port shared (SO_REUSEADDR)
    /// with the direct-channel listener there, while QUIC attempts still bind <c>local</c>. Null: TCP binds
    /// <c>local</c> unshared, as QUIC does.
    /// </summary>
    public static async Task<TransportConnection> ConnectAsync(TransportMode mode, IPEndPoint remote, IPEndPoint? local, IPEndPoint? sharedTcpLocal,
        TransportClientTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var tcpLocal = sharedTcpLocal ?? local;
        var share = sharedTcpLocal is not null;
        switch (mode)
        {
            case TransportMode.Tcp:
                return await TcpTransport.ConnectAsync(remote, tcpLocal, share, tls, settings, logger, cancellationToken);
            case TransportMode.Quic when IsQuicSupported:
                return await QuicTransportConnection.ConnectAsync(remote, local, tls, settings, cancellationToken);
            case TransportMode.Quic:
                throw QuicUnsupported();
            case TransportMode.Auto when IsQuicSupported:
                return await ConnectRacingAsync(remote, local, sharedTcpLocal, tls, settings, logger, cancellationToken);
            case TransportMode.Auto:
                Log.ConnectingWithoutQuic(logger, remote, QuicMissing);
                return await TcpTransport.ConnectAsync(remote, tcpLocal, share, tls, settings, logger, cancellationToken);
            default:
                throw new ConecException(ConecError.InvalidConfiguration, $"Unknown transport mode {mode}.");
        }
    }

    /// <summary>
    /// QUIC first; TCP joins after <see cref="QuicHeadStart"/> or as soon as QUIC fails for a reason other than
    /// the peer's certificate or a full coordinator (TCP would meet the same refusal). The first success wins, the other is closed.
    /// </summary>
    [SupportedOSPlatform("windows")]
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    private static async Task<TransportConnection> ConnectRacingAsync(IPEndPoint remote, IPEndPoint? local, IPEndPoint? sharedTcpLocal,
        TransportClientTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        using var losers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var quic = QuicTransportConnection.ConnectAsync(remote, local, tls, settings, losers.Token);
        await Task.WhenAny(quic, Task.Delay(QuicHeadStart, cancellationToken));
        if (quic.IsCompletedSuccessfully)
        {
            return quic.Result;
        }

        if (quic.Exception?.InnerException is ConecException { Error: ConecError.HandshakeFailed or ConecError.CoordinatorFull })
        {
            return await quic;
        }

        Log.RacingTcp(logger, remote, QuicHeadStart, quic.Exception?.InnerException?.Message ?? "still connecting");
        var tcp = TcpTransport.ConnectAsync(remote, sharedTcpLocal ?? local, sharedTcpLocal is not null, tls, settings, logger, losers.Token);
        var first = await Task.WhenAny(quic, tcp);
        var second = first == quic ? tcp : quic;
        if (first.IsCompletedSuccessfully)
        {
            await losers.CancelAsync();
            await DisposeLoserAsync(second);
            return first.Result;
        }

        return await second;
    }

    private static async Task DisposeLoserAsync(Task<TransportConnection> loser)
    {
        try
        {
            await (await loser).DisposeAsync();
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The losing attempt failed or was cancelled: nothing was opened, so nothing needs closing.
        }
    }

    private static ConecException QuicUnsupported() => new(ConecError.TransportUnsupported,
        "QUIC is not available on this machine (System.Net.Quic needs libmsquic); use TransportMode.Tcp or Auto.");

    private static partial class Log
    {
        [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "QUIC could not listen on {EndPoint} ({Reason}); trying another port")]
        public static partial void ListenRetry(ILogger logger, IPEndPoint endPoint, string reason);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "QUIC is not available ({Reason}); listening on {EndPoint} over TCP only")]
        public static partial void ListeningWithoutQuic(ILogger logger, IPEndPoint endPoint, string reason);

        [LoggerMessage(EventId = 1303, Level = LogLevel.Information, Message = "QUIC is not available ({Reason}); connecting to {EndPoint} over TCP")]
        public static partial void ConnectingWithoutQuic(ILogger logger, IPEndPoint endPoint, string reason);

        [LoggerMessage(EventId = 1304, Level = LogLevel.Debug, Message = "QUIC to {EndPoint} failed or is slower than its {HeadStart} head start ({Reason}); racing TCP")]
        public static partial void RacingTcp(ILogger logger, IPEndPoint endPoint, TimeSpan headStart, string reason);
    }
}
