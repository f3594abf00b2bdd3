using System.Net;
using System.Net.Quic;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Quic;

/// <summary>
/// A QUIC listener behind the transport contract. msquic runs handshakes concurrently and enables stateless
/// retry on its own when handshakes pile up (System.Net.Quic exposes no switch for it).
/// </summary>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal sealed partial class QuicTransportListener : TransportListener
{
    private readonly QuicListener _listener;
    private readonly ILogger _logger;
    private readonly TransportSettings _settings;
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(
        new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    private QuicTransportListener(QuicListener listener, TransportSettings settings, ILogger logger)
    {
        _listener = listener;
        _settings = settings;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public override IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    public static async Task<TransportListener> ListenAsync(
        IPEndPoint endPoint, TransportServerTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        settings.Validate();
        var options = new QuicListenerOptions
        {
            ListenEndPoint = endPoint,
            ListenBacklog = 512,
            ApplicationProtocols = [TransportTls.Alpn],
            ConnectionOptionsCallback = (_, _, _) =>
            {
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
                Apply(server, settings);
                return ValueTask.FromResult(server);
            },
        };
        try
        {
            return new QuicTransportListener(await QuicListener.ListenAsync(options, cancellationToken), settings, logger);
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
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private static void Apply(QuicServerConnectionOptions options, TransportSettings settings) =>
        QuicTransportConnection.Apply(options, settings);

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var connection = await _listener.AcceptConnectionAsync(_stopping.Token);
                await _ready.Writer.WriteAsync(QuicTransportConnection.WrapAccepted(connection, _settings), _stopping.Token);
            }
            catch (Exception e) when (e is QuicException or AuthenticationException or ConecException)
            {
                // One connection's failed handshake; QuicListener reports it here and keeps listening.
                Log.HandshakeFailed(_logger, e.Message);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                Log.AcceptStopped(_logger, e.Message);
                return;
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
    }
}
