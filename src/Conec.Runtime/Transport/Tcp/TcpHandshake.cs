using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Conec.Transport.Tcp;

/// <summary>
/// TLS and the multiplexer on a TCP socket that is already connected, in either role. A socket from a simultaneous
/// open has no dialler and no acceptor, so its TLS role is chosen by the caller, not by how the socket came about.
/// </summary>
internal static class TcpHandshake
{
    /// <summary>Runs the TLS client side and starts the multiplexer; the socket belongs to the result, or is disposed.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.HandshakeFailed"/> or <see cref="ConecError.Timeout"/>.</exception>
    public static async Task<TransportConnection> AsClientAsync(Socket socket, TransportClientTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var failure = new HandshakeFailure();
        var records = new RecordCoalescingStream(new NetworkStream(socket, ownsSocket: true));
        var ssl = new SslStream(records, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsClientAsync(TransportTls.ClientOptions(tls, failure), timeout.Token);
            return await MuxConnection.StartAsync(socket, records, ssl, isClient: true, settings, logger, timeout.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ConecException)
        {
            await ssl.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            throw e switch
            {
                ConecException conec => conec,
                OperationCanceledException => new ConecException(ConecError.Timeout,
                    $"The TLS handshake with {tls.TargetHost} did not finish within {settings.HandshakeTimeout.TotalSeconds:0.###} s.", e),
                _ => new ConecException(ConecError.HandshakeFailed, $"The TLS handshake with {tls.TargetHost} failed: {failure.Reason ?? e.Message}", e),
            };
        }
    }

    /// <summary>
    /// Runs the TLS server side and starts the multiplexer. A refused client certificate completes TLS and is
    /// answered with a CLOSE frame that says why (docs/protocol.md), then fails here.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.HandshakeFailed"/> or <see cref="ConecError.Timeout"/>.</exception>
    public static async Task<TransportConnection> AsServerAsync(Socket socket, TransportServerTls tls, TransportSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var failure = new HandshakeFailure { RefuseAfterHandshake = true };
        var records = new RecordCoalescingStream(new NetworkStream(socket, ownsSocket: true));
        var ssl = new SslStream(records, leaveInnerStreamOpen: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.HandshakeTimeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(TransportTls.ServerOptions(tls, failure), timeout.Token);
            if (failure.Reason is { } refused)
            {
                await RefuseAsync(ssl, socket, refused, timeout.Token);
                throw new ConecException(ConecError.HandshakeFailed, $"The client certificate was refused: {refused}");
            }

            return await MuxConnection.StartAsync(socket, records, ssl, isClient: false, settings, logger, timeout.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ConecException)
        {
            await ssl.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            throw e switch
            {
                ConecException conec => conec,
                OperationCanceledException => new ConecException(ConecError.Timeout,
                    $"The TLS handshake did not finish within {settings.HandshakeTimeout.TotalSeconds:0.###} s.", e),
                _ => new ConecException(ConecError.HandshakeFailed, $"The TLS handshake failed: {failure.Reason ?? e.Message}", e),
            };
        }
    }

    /// <summary>Sends the refusal first and waits for the client's end, so a reset cannot destroy the frame.</summary>
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
}
