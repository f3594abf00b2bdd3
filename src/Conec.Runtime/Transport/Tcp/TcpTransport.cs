using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>Connects the TLS-over-TCP transport.</summary>
internal static class TcpTransport
{
    /// <summary>
    /// Connects, binding <c>local</c> if given; with <c>shareLocal</c> it is bound with SO_REUSEADDR (on Linux also
    /// SO_REUSEPORT), so a direct-channel listener and hole-punching connects can use the same port.
    /// </summary>
    public static async Task<TransportConnection> ConnectAsync(
        IPEndPoint remote, IPEndPoint? local, bool shareLocal, TransportClientTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        settings.Validate();
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (shareLocal)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        }

        var failure = new HandshakeFailure();
        SslStream? ssl = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HandshakeTimeout);
        try
        {
            if (local is not null)
            {
                socket.Bind(local);
            }

            await socket.ConnectAsync(remote, timeout.Token);
            var records = new RecordCoalescingStream(new NetworkStream(socket, ownsSocket: true));
            ssl = new SslStream(records, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(TransportTls.ClientOptions(tls, failure), timeout.Token);
            return await MuxConnection.StartAsync(socket, records, ssl, isClient: true, settings, logger, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or AuthenticationException or IOException or OperationCanceledException)
        {
            if (ssl is not null)
            {
                await ssl.DisposeAsync();
            }

            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw e switch
            {
                SocketException { SocketErrorCode: SocketError.ConnectionRefused } => new ConecException(ConecError.ConnectionRefused,
                    $"Nothing accepts TCP connections at {remote}.", e),
                SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable } => new ConecException(
                    ConecError.AddressInUse, $"Cannot bind the local address {local}: {e.Message}", e),
                OperationCanceledException => new ConecException(ConecError.Timeout,
                    $"Connecting to {remote} did not finish within {settings.HandshakeTimeout.TotalSeconds:0.###} s.", e),
                SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted } => new ConecException(
                    ConecError.ConnectionLost, $"{remote} closed the connection as it was made, before the TLS handshake: {e.Message}", e),
                SocketException => new ConecException(ConecError.ConnectionRefused, $"Cannot connect to {remote}: {e.Message}", e),

                // No TLS alert and no verdict of ours: the server closed or reset the connection mid-handshake (a
                // coordinator at its limit of handshakes does), which a later attempt may not meet.
                IOException when failure.Reason is null => new ConecException(ConecError.ConnectionLost,
                    $"{remote} closed the connection during the TLS handshake with {tls.TargetHost}, before it completed: {e.Message}", e),
                _ => new ConecException(ConecError.HandshakeFailed,
                    $"The TLS handshake with {tls.TargetHost} at {remote} failed: {failure.Reason ?? e.Message}", e),
            };
        }
        catch (ConecException)
        {
            socket.Dispose();
            throw;
        }
    }
}
