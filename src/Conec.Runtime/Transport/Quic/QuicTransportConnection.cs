using System.Net;
using System.Net.Quic;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;

namespace Conec.Transport.Quic;

/// <summary>
/// A QUIC connection behind the transport contract. Its accept loop owns the connection's inbound streams and is
/// where a closed connection (by the peer, idle timeout or locally) is observed and reported through <see cref="Closed"/>.
/// </summary>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal sealed class QuicTransportConnection : TransportConnection
{
    private readonly QuicConnection _connection;
    private readonly Channel<TransportStream> _inbound = Channel.CreateUnbounded<TransportStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<ConecException> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly X509Certificate2 _remoteCertificate;
    private readonly Task _acceptLoop;
    private readonly Task _readySignal;
    private int _disposed;

    private QuicTransportConnection(QuicConnection connection, IEnumerable<QuicStream> early, TimeSpan? sendReadySignal)
    {
        _connection = connection;
        _remoteCertificate = connection.RemoteCertificate as X509Certificate2
            ?? throw new ConecException(ConecError.HandshakeFailed, "The peer presented no certificate.");
        foreach (var stream in early)
        {
            _inbound.Writer.TryWrite(new QuicTransportStream(stream));
        }

        _readySignal = sendReadySignal is { } timeout ? SendReadySignalAsync(timeout) : Task.CompletedTask;
        _acceptLoop = AcceptLoopAsync();
    }

    public override X509Certificate2 RemoteCertificate => _remoteCertificate;

    public override IPEndPoint RemoteEndPoint => _connection.RemoteEndPoint;

    public override IPEndPoint LocalEndPoint => _connection.LocalEndPoint;

    public override TransportMode Mode => TransportMode.Quic;

    public override Task<ConecException> Closed => _closed.Task;

    /// <summary>
    /// Options shared by both sides: windows, stream limit and timers from <paramref name="settings"/>. Only a client
    /// accepts a unidirectional stream: the server's ready signal (<see cref="QuicReadySignal"/>).
    /// </summary>
    public static void Apply(QuicConnectionOptions options, TransportSettings settings)
    {
        options.DefaultStreamErrorCode = 0;
        options.DefaultCloseErrorCode = 0;
        options.IdleTimeout = settings.IdleTimeout;
        options.KeepAliveInterval = settings.KeepAliveInterval ?? Timeout.InfiniteTimeSpan;
        options.HandshakeTimeout = settings.HandshakeTimeout;
        options.MaxInboundBidirectionalStreams = settings.MaxInboundStreams;
        options.MaxInboundUnidirectionalStreams = options is QuicClientConnectionOptions ? 1 : 0;
        options.InitialReceiveWindowSizes = new QuicReceiveWindowSizes
        {
            Connection = settings.ConnectionReceiveWindow,
            LocallyInitiatedBidirectionalStream = settings.StreamReceiveWindow,
            RemotelyInitiatedBidirectionalStream = settings.StreamReceiveWindow,
        };
    }

    /// <summary>Wraps a connection the listener accepted, and sends it the ready signal.</summary>
    public static TransportConnection WrapAccepted(QuicConnection connection, TransportSettings settings) =>
        new QuicTransportConnection(connection, [], settings.HandshakeTimeout);

    public static async Task<TransportConnection> ConnectAsync(
        IPEndPoint remote, IPEndPoint? local, TransportClientTls tls, TransportSettings settings, CancellationToken cancellationToken)
    {
        settings.Validate();
        var failure = new HandshakeFailure();
        var options = new QuicClientConnectionOptions
        {
            RemoteEndPoint = remote,
            LocalEndPoint = local,
            ClientAuthenticationOptions = TransportTls.ClientOptions(tls, failure),
        };
        Apply(options, settings);
        QuicConnection? connection = null;
        try
        {
            connection = await QuicConnection.ConnectAsync(options, cancellationToken);
            var early = await QuicReadySignal.AwaitAsync(connection, settings.HandshakeTimeout, cancellationToken);
            var ready = new QuicTransportConnection(connection, early, sendReadySignal: null);
            connection = null;
            return ready;
        }
        catch (AuthenticationException e)
        {
            throw new ConecException(ConecError.HandshakeFailed,
                $"The QUIC handshake with {tls.TargetHost} at {remote} failed: {failure.Reason ?? e.Message}", e);
        }
        catch (QuicException e)
        {
            throw failure.Reason is { } reason
                ? new ConecException(ConecError.HandshakeFailed, $"The QUIC handshake with {tls.TargetHost} at {remote} failed: {reason}", e)
                : QuicErrors.MapConnect(e, remote);
        }
        catch (SocketException e)
        {
            // MsQuic reports ICMP unreachable replies (nothing listens on the port, or no route) as socket errors.
            throw e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AddressNotAvailable
                ? new ConecException(ConecError.AddressInUse, $"Cannot bind the local address {local}: {e.Message}", e)
                : new ConecException(ConecError.ConnectionRefused, $"Cannot reach a QUIC listener at {remote}: {e.Message}", e);
        }
        finally
        {
            // Connected, but the server refused our certificate or never signalled ready: nobody else owns it.
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public override async ValueTask<TransportStream> OpenStreamAsync(CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        try
        {
            return new QuicTransportStream(await _connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken));
        }
        catch (QuicException e)
        {
            throw QuicErrors.Map(e, writing: true);
        }
        catch (AuthenticationException e)
        {
            throw QuicErrors.Map(e);
        }
    }

    public override async ValueTask<TransportStream> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _inbound.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException e) when (e.InnerException is ConecException closed)
        {
            throw closed;
        }
    }

    public override async ValueTask CloseAsync(long errorCode, string reason, CancellationToken cancellationToken)
    {
        _closed.TrySetResult(new ConecException(ConecError.ConnectionAborted, $"The connection was closed locally (code {errorCode}): {reason}", errorCode, null));
        if (Volatile.Read(ref _disposed) == 1)
        {
            return; // Disposal already closed it.
        }

        await _connection.CloseAsync(errorCode, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _closed.TrySetResult(new ConecException(ConecError.ConnectionAborted, "The connection was disposed.", 0, null));
        await _connection.DisposeAsync();
        await _readySignal;
        await _acceptLoop;
    }

    /// <summary>
    /// A failure to signal ready ends the connection with that reason, unless it already ended with another; a
    /// client that took no signal is closed here, as a protocol violation.
    /// </summary>
    private async Task SendReadySignalAsync(TimeSpan timeout)
    {
        if (await QuicReadySignal.SendAsync(_connection, timeout) is { } failure
            && _closed.TrySetResult(failure)
            && failure.Error == ConecError.ProtocolViolation)
        {
            try
            {
                await _connection.CloseAsync(TransportCodes.CloseProtocolViolation);
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile, which closed it just the same.
            }
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed.Task.IsCompleted)
        {
            throw _closed.Task.Result;
        }
    }

    private async Task AcceptLoopAsync()
    {
        ConecException reason;
        try
        {
            while (true)
            {
                var stream = await _connection.AcceptInboundStreamAsync();
                if (stream.Type == QuicStreamType.Unidirectional)
                {
                    // Only the ready signal travels one way, and it came before this loop started.
                    stream.Abort(QuicAbortDirection.Read, TransportCodes.StreamRefused);
                    await stream.DisposeAsync();
                    continue;
                }

                _inbound.Writer.TryWrite(new QuicTransportStream(stream));
            }
        }
        catch (QuicException e)
        {
            reason = QuicErrors.Map(e, writing: false);
        }
        catch (AuthenticationException e)
        {
            reason = QuicErrors.Map(e);
        }
        catch (ObjectDisposedException e)
        {
            reason = new ConecException(ConecError.ConnectionAborted, "The connection was disposed.", e);
        }

        _closed.TrySetResult(reason);
        _inbound.Writer.TryComplete(_closed.Task.Result);
    }
}
