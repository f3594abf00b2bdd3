using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;

namespace Conec.Transport.Tcp;

/// <summary>Admission against the budget, the TLS handshake, and the refusal that tells a client why after it.</summary>
internal sealed partial class TcpTransportListener
{
    /// <summary>
    /// Decides at the accept, before any byte is read: beyond <see cref="ConnectionBudget.MaxPending"/> handshakes
    /// the socket is closed at once; with every place held the handshake still runs, so the client can be told that
    /// the coordinator is full; otherwise the connection takes a place, which its owner gives back after disposal.
    /// </summary>
    private void Admit(Socket socket)
    {
        var full = false;
        if (_budget is not null)
        {
            if (!_budget.EnterHandshake())
            {
                _budget.ExitHandshake();
                _budget.CountRefusal(RefusalReasons.TooManyHandshakes);
                WarnRefused(socket, $"{_budget.MaxPending} handshakes are in progress, the limit (CoordConfig.MaxPendingHandshakes); closed at once");
                Abort(socket);
                return;
            }

            full = !_budget.TryTake();
            if (full)
            {
                _budget.CountRefusal(RefusalReasons.CoordinatorFull);
                WarnRefused(socket, _budget.FullReason());
            }
        }

        var handshake = HandshakeAsync(socket, full);
        lock (_handshakes)
        {
            _handshakes.Add(handshake);
        }

        _ = handshake.ContinueWith(done =>
        {
            lock (_handshakes)
            {
                _handshakes.Remove(done);
            }
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// Never throws: a failed handshake is logged with its reason and the socket closed. With
    /// <paramref name="refuseAsFull"/>, TLS is completed only to tell the client that the coordinator is full.
    /// </summary>
    private async Task HandshakeAsync(Socket socket, bool refuseAsFull)
    {
        var handedOver = false;
        IPEndPoint? remote = null;
        SslStream? ssl = null;
        var failure = new HandshakeFailure { RefuseAfterHandshake = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(_settings.HandshakeTimeout);
        try
        {
            socket.NoDelay = true;
            remote = socket.RemoteEndPoint as IPEndPoint;
            var records = new RecordCoalescingStream(new NetworkStream(socket, ownsSocket: true));
            ssl = new SslStream(records, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(TransportTls.ServerOptions(_tls, failure), timeout.Token);
            if (failure.Reason is { } refused)
            {
                // A refused certificate is reported before fullness: retrying cannot fix it, so it is the useful news.
                await RefuseAsync(ssl, socket, 0, $"the client certificate was refused: {refused}", timeout.Token);
                Log.HandshakeFailed(_logger, remote, refused);
                return;
            }

            if (refuseAsFull)
            {
                await RefuseAsync(ssl, socket, TransportCodes.CloseCoordinatorFull, _budget!.FullReason(), timeout.Token);
                return;
            }

            var connection = await MuxConnection.StartAsync(socket, records, ssl, isClient: false, _settings, _logger, timeout.Token);
            try
            {
                await _ready.Writer.WriteAsync(connection, _stopping.Token);
                handedOver = true;
            }
            finally
            {
                if (!handedOver)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException
            or ConecException or ChannelClosedException or ObjectDisposedException)
        {
            var reason = failure.Reason ?? (e is OperationCanceledException && !_stopping.IsCancellationRequested
                ? $"the handshake did not finish within {_settings.HandshakeTimeout.TotalSeconds:0.###} s"
                : e.Message);
            if (!_stopping.IsCancellationRequested && !refuseAsFull)
            {
                _budget?.CountRefusal(RefusalReasons.HandshakeFailed);
            }

            Log.HandshakeFailed(_logger, remote, reason);
        }
        finally
        {
            if (!handedOver)
            {
                if (ssl is null)
                {
                    socket.Dispose();
                }
                else
                {
                    await ssl.DisposeAsync();
                }

                if (!refuseAsFull)
                {
                    _budget?.Release();
                }
            }

            _budget?.ExitHandshake();
        }
    }

    /// <summary>
    /// Tells a refused client why, in a CLOSE frame marked as a refusal whose code says what was refused (0: its
    /// certificate; <see cref="TransportCodes.CloseCoordinatorFull"/>), then closes once the client has read it:
    /// sending first and waiting for the client's end keeps a reset from destroying the frame.
    /// </summary>
    private static async Task RefuseAsync(SslStream ssl, Socket socket, long code, string reason, CancellationToken cancellationToken)
    {
        await ssl.WriteAsync(MuxFrame.EncodeClose(code, reason, MuxFrame.RefusedFlag), cancellationToken);
        await ssl.FlushAsync(cancellationToken);
        socket.Shutdown(SocketShutdown.Send);
        var discard = new byte[1024];
        while (await ssl.ReadAsync(discard, cancellationToken) > 0)
        {
        }
    }

    private void WarnRefused(Socket socket, string reason)
    {
        if (_refusalWarnings.ShouldLog(out var suppressed))
        {
            // An accepted socket carries its peer's address from the accept itself: reading it makes no system call.
            Log.Refused(_logger, socket.RemoteEndPoint as IPEndPoint, reason, suppressed);
        }
    }
}
