using System.Net;
using System.Net.Quic;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Threading.Channels;
using Conec.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Quic;

/// <summary>
/// A QUIC listener behind the transport contract. msquic runs handshakes concurrently and enables stateless
/// retry on its own when handshakes pile up (System.Net.Quic exposes no switch for it).
/// </summary>
/// <remarks>
/// What System.Net.Quic lets a server see of its refusals: every connection past its <c>ListenBacklog</c> (counted
/// from the first packet until <c>AcceptConnectionAsync</c> takes it) is refused with CONNECTION_REFUSED before any
/// callback runs, visible only in its NetEventSource trace; msquic's own refusals (handshake memory, stateless retry)
/// are not surfaced at all. So the backlog is set above <see cref="ConnectionBudget.MaxPending"/>: handshakes past
/// the budget are refused here, in the options callback, where they are counted and logged.
/// </remarks>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal sealed partial class QuicTransportListener : TransportListener
{
    private readonly QuicListener _listener;
    private readonly ILogger _logger;
    private readonly TransportSettings _settings;
    private readonly ConnectionBudget? _budget;
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stopping = new();
    private readonly LogThrottle _refusalWarnings;
    private readonly HashSet<Task> _refusals = [];
    private readonly Task _acceptLoop;

    private QuicTransportListener(QuicListener listener, TransportSettings settings, ConnectionBudget? budget, LogThrottle refusalWarnings, ILogger logger)
    {
        _listener = listener;
        _settings = settings;
        _budget = budget;
        _refusalWarnings = refusalWarnings;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public override IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>Listens under the coordinator's <paramref name="budget"/>, or admits whatever connects without one (a client's direct channels).</summary>
    public static async Task<TransportListener> ListenAsync(
        IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, ConnectionBudget? budget, ILogger logger, CancellationToken cancellationToken)
    {
        settings.Validate();
        var refusalWarnings = new LogThrottle();
        var options = new QuicListenerOptions
        {
            ListenEndPoint = endPoint,
            ListenBacklog = budget is null ? 512 : Math.Max(512, budget.MaxPending * 2),
            ApplicationProtocols = [TransportTls.Alpn],
            ConnectionOptionsCallback = (connection, _, _) =>
            {
                // Every connection the backlog let in reaches this callback once, and then the accept queue once
                // (as a connection or as its failure), where AcceptLoopAsync ends its handshake in the budget.
                if (budget is not null && !budget.EnterHandshake())
                {
                    budget.CountRefusal(RefusalReasons.TooManyHandshakes);
                    if (refusalWarnings.ShouldLog(out var suppressed))
                    {
                        Log.Refused(logger, connection.RemoteEndPoint,
                            $"{budget.MaxPending} handshakes are in progress, the limit (CoordConfig.MaxPendingHandshakes); closed at once", suppressed);
                    }

                    throw new ConecException(ConecError.LimitExceeded, $"{budget.MaxPending} QUIC handshakes are in progress (CoordConfig.MaxPendingHandshakes).");
                }

                var failure = new HandshakeFailure();
                var server = new QuicServerConnectionOptions { ServerAuthenticationOptions = TransportTls.ServerOptions(tls, failure) };
                var validate = server.ServerAuthenticationOptions.RemoteCertificateValidationCallback!;
                server.ServerAuthenticationOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                {
                    var accepted = validate(sender, certificate, chain, errors);
                    if (!accepted)
                    {
                        Log.ClientCertificateRefused(logger, failure.Reason ?? "no reason");
                    }

                    return accepted;
                };
                QuicTransportConnection.Apply(server, settings);
                return ValueTask.FromResult(server);
            },
        };
        try
        {
            return new QuicTransportListener(await QuicListener.ListenAsync(options, cancellationToken), settings, budget, refusalWarnings, logger);
        }
        catch (QuicException e)
        {
            throw QuicErrors.Map(e, writing: false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ConecException(ConecError.AddressInUse, $"QUIC could not listen on {endPoint}: {e.Message}", e);
        }
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
        await _listener.DisposeAsync();
        await _acceptLoop;
        Task[] refusals;
        lock (_refusals)
        {
            refusals = [.. _refusals];
        }

        await Task.WhenAll(refusals);
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
        try
        {
            while (true)
            {
                QuicConnection connection;
                try
                {
                    connection = await _listener.AcceptConnectionAsync(_stopping.Token);
                }
                catch (Exception e) when (e is QuicException or AuthenticationException && !_stopping.IsCancellationRequested)
                {
                    // One connection's failed handshake (or one refused in the options callback); the listener goes on.
                    _budget?.ExitHandshake();
                    OnHandshakeFailed(e);
                    continue;
                }

                _budget?.ExitHandshake();
                if (_budget is not null && !_budget.TryTake())
                {
                    RefuseAsFull(connection);
                    continue;
                }

                await HandOverAsync(connection);
            }
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ObjectDisposedException or QuicException)
        {
            Log.AcceptStopped(_logger, e.Message);
        }
        catch (Exception e)
        {
            // Not one connection's failure: the listener itself broke, and its owner learns it from AcceptConnectionAsync.
            Log.AcceptFailed(_logger, LocalEndPoint, e);
            _ready.Writer.TryComplete(new ConecException(ConecError.ConnectionLost, $"The QUIC listener on {LocalEndPoint} stopped accepting: {e.Message}", e));
        }
    }

    /// <summary>Wraps an admitted connection for the owner, who gives its place back after disposing it.</summary>
    private async Task HandOverAsync(QuicConnection connection)
    {
        TransportConnection accepted;
        try
        {
            accepted = QuicTransportConnection.WrapAccepted(connection, _settings);
        }
        catch (ConecException e)
        {
            _budget?.Release();
            await connection.DisposeAsync();
            OnHandshakeFailed(e);
            return;
        }

        try
        {
            await _ready.Writer.WriteAsync(accepted, _stopping.Token);
        }
        catch
        {
            _budget?.Release();
            await accepted.DisposeAsync();
            throw;
        }
    }

    private void OnHandshakeFailed(Exception e)
    {
        if (e is QuicException { QuicError: QuicError.CallbackError, InnerException: ConecException { Error: ConecError.LimitExceeded } })
        {
            return; // refused by the options callback, which counted and logged it
        }

        _budget?.CountRefusal(RefusalReasons.HandshakeFailed);
        if (e is QuicException { QuicError: QuicError.ConnectionRefused or QuicError.InternalError } refused)
        {
            // msquic gave up on a connection for a reason of its own, not a peer's mistake: worth a (throttled) warning.
            if (_refusalWarnings.ShouldLog(out var suppressed))
            {
                Log.Refused(_logger, null, $"msquic refused it ({refused.QuicError}: {e.Message})", suppressed);
            }

            return;
        }

        Log.HandshakeFailed(_logger, e.Message);
    }

    /// <summary>
    /// Every place is held: closes the connection with <see cref="TransportCodes.CloseCoordinatorFull"/> instead of
    /// the ready signal, so its client reports <see cref="ConecError.CoordinatorFull"/> (QUIC carries no close reason
    /// in System.Net.Quic, so that client names the limit without its number). Off the loop: a close takes a round trip.
    /// </summary>
    private void RefuseAsFull(QuicConnection connection)
    {
        _budget!.CountRefusal(RefusalReasons.CoordinatorFull);
        if (_refusalWarnings.ShouldLog(out var suppressed))
        {
            Log.Refused(_logger, connection.RemoteEndPoint, _budget.FullReason(), suppressed);
        }

        var refusal = CloseFullAsync(connection);
        lock (_refusals)
        {
            _refusals.Add(refusal);
        }

        _ = refusal.ContinueWith(done =>
        {
            lock (_refusals)
            {
                _refusals.Remove(done);
            }
        }, TaskScheduler.Default);
    }

    private async Task CloseFullAsync(QuicConnection connection)
    {
        await using (connection)
        {
            try
            {
                await connection.CloseAsync(TransportCodes.CloseCoordinatorFull);
            }
            catch (Exception e) when (e is QuicException or ObjectDisposedException)
            {
                Log.RefusalCloseFailed(_logger, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Refused a QUIC connection: {Reason}")]
        public static partial void HandshakeFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Refused a QUIC client certificate: {Reason}")]
        public static partial void ClientCertificateRefused(ILogger logger, string reason);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "QUIC listener stopped accepting: {Reason}")]
        public static partial void AcceptStopped(ILogger logger, string reason);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Warning,
            Message = "Refused a QUIC connection from {RemoteEndPoint}: {Reason} ({Suppressed} more such refusals in the last second)")]
        public static partial void Refused(ILogger logger, IPEndPoint? remoteEndPoint, string reason, int suppressed);

        [LoggerMessage(EventId = 1206, Level = LogLevel.Debug, Message = "Closing a refused QUIC connection failed: {Reason}")]
        public static partial void RefusalCloseFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1205, Level = LogLevel.Error, Message = "QUIC listener on {LocalEndPoint} can no longer accept")]
        public static partial void AcceptFailed(ILogger logger, IPEndPoint localEndPoint, Exception exception);
    }
}
