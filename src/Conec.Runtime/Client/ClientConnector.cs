using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;
using Microsoft.Extensions.Logging;

namespace Conec;

/// <summary>The client's connect sequence: identity, trust, address resolution, transport, hello.</summary>
internal static class ClientConnector
{
    /// <summary>The connected transport and its control stream, after the coordinator accepted the hello.</summary>
    public readonly record struct Connected(TransportConnection Connection, TransportStream Control);

    /// <summary>The configured certificate, or a fresh self-signed one for the id (conec's default).</summary>
    public static X509Certificate2 ResolveIdentity(ClientConfig config)
    {
        var certificate = config.ResolveCertificate() ?? ConecCertificates.CreateSelfSigned(config.Id);
        return certificate.MatchesHostname(config.Id, allowWildcards: false, allowCommonName: false)
            ? certificate
            : throw new ConecException(ConecError.IdentityRejected,
                $"The client certificate ('{certificate.Subject}') is not valid for the id '{config.Id}'; the coordinator would refuse it.");
    }

    /// <summary>Transport settings for the coordinator connection and direct channels alike.</summary>
    public static TransportSettings Settings(ClientConfig config)
    {
        var settings = new TransportSettings
        {
            IdleTimeout = config.IdleTimeout,
            KeepAliveInterval = config.KeepAlive ? config.IdleTimeout / 3 : null,
            HandshakeTimeout = config.ConnectTimeout,
        };
        settings.Validate();
        return settings;
    }

    /// <summary>
    /// Connects and says hello. <c>sharedTcpLocal</c> is the direct listener's TCP address, whose port a TCP
    /// connection to the coordinator shares (so the port the coordinator observes leads to the listener); null when
    /// there is no TCP listener.
    /// </summary>
    public static async Task<Connected> ConnectAsync(ClientConfig config, X509Certificate2 certificate, TransportSettings settings, int listenPort,
        IPEndPoint? sharedTcpLocal, ILogger logger, CancellationToken cancellationToken)
    {
        var authority = config.ResolveCoordinatorAuthority();
        var tls = new TransportClientTls(config.CoordinatorHost, certificate)
        {
            TrustedAuthorities = authority is null ? [] : [authority],
            TrustSystemRoots = config.TrustSystemRoots,
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(config.ConnectTimeout);
        try
        {
            var candidates = config.CoordinatorEndPoints;
            if (candidates.Count == 0)
            {
                return await ConnectOnceAsync(config, tls, settings, listenPort, null, sharedTcpLocal, logger, deadline.Token);
            }

            // Nodes of one cluster: a random start spreads clients over them; each is tried once, in turn.
            var start = Random.Shared.Next(candidates.Count);
            ConecException? last = null;
            for (var i = 0; i < candidates.Count; i++)
            {
                try
                {
                    return await ConnectOnceAsync(config, tls, settings, listenPort, candidates[(start + i) % candidates.Count], sharedTcpLocal, logger, deadline.Token);
                }
                catch (ConecException e) when (e.Error is ConecError.ConnectionRefused or ConecError.ConnectionLost or ConecError.ConnectionIdle
                    or ConecError.ClusterUnavailable or ConecError.CoordinatorFull)
                {
                    last = e;
                }
            }

            throw last!;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConecException(ConecError.Timeout,
                $"Connecting to the coordinator '{config.CoordinatorHost}' did not finish within {config.ConnectTimeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>Dials <paramref name="endPoint"/> (or the configured coordinator when null) and says hello.</summary>
    private static async Task<Connected> ConnectOnceAsync(ClientConfig config, TransportClientTls tls, TransportSettings settings, int listenPort,
        IPEndPoint? endPoint, IPEndPoint? sharedTcpLocal, ILogger logger, CancellationToken cancellationToken)
    {
        TransportConnection connection;
        try
        {
            connection = await DialAsync(config, tls, settings, endPoint, sharedTcpLocal, logger, cancellationToken);
        }
        catch (ConecException e) when (e.Error == ConecError.AddressInUse && sharedTcpLocal is not null)
        {
            // The shared port's last connection to this coordinator may linger (TIME_WAIT after a reconnect):
            // connect from another port; peers then cannot punch to this client, and channels fall back.
            ClientLog.PortNotShared(logger, config.Id, e.Message);
            connection = await DialAsync(config, tls, settings, endPoint, null, logger, cancellationToken);
        }

        try
        {
            var hello = ControlMessage.Hello(config.Id, ProtocolConstants.Version, listenPort) with
            {
                SharesPort = sharedTcpLocal is not null && connection.Mode == TransportMode.Tcp && connection.LocalEndPoint.Port == sharedTcpLocal.Port,
                LocalAddresses = [Unmapped(connection.LocalEndPoint.Address)],
            };
            var control = await HelloAsync(connection, hello, cancellationToken);
            return new Connected(connection, control);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static async Task<TransportConnection> DialAsync(ClientConfig config, TransportClientTls tls, TransportSettings settings,
        IPEndPoint? endPoint, IPEndPoint? sharedTcpLocal, ILogger logger, CancellationToken cancellationToken)
    {
        if ((endPoint ?? config.CoordinatorEndPoint) is { } fixedEndPoint)
        {
            return await TransportFactory.ConnectAsync(config.Transport, fixedEndPoint, config.SourceEndPoint, Shared(sharedTcpLocal, fixedEndPoint), tls, settings, logger, cancellationToken);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(config.CoordinatorHost, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new ConecException(ConecError.ConnectionRefused, $"The coordinator host '{config.CoordinatorHost}' could not be resolved: {e.Message}", e);
        }

        // As conec: only addresses of the source address's family, tried one after another; the last failure is reported.
        var family = config.SourceEndPoint?.AddressFamily;
        ConecException? last = null;
        foreach (var address in addresses.Where(a => family is null || a.AddressFamily == family))
        {
            try
            {
                var remote = new IPEndPoint(address, config.CoordinatorPort);
                return await TransportFactory.ConnectAsync(config.Transport, remote, config.SourceEndPoint, Shared(sharedTcpLocal, remote), tls, settings, logger, cancellationToken);
            }
            catch (ConecException e) when (e.Error is ConecError.ConnectionRefused or ConecError.ConnectionLost or ConecError.ConnectionIdle)
            {
                last = e;
            }
        }

        throw last ?? new ConecException(ConecError.ConnectionRefused,
            $"The coordinator host '{config.CoordinatorHost}' has no address{(family is null ? "" : $" of family {family}")} to connect to.");
    }

    /// <summary>The shared local address, when its family can reach <paramref name="remote"/>.</summary>
    private static IPEndPoint? Shared(IPEndPoint? sharedTcpLocal, IPEndPoint remote) =>
        sharedTcpLocal is not null && sharedTcpLocal.AddressFamily == remote.AddressFamily ? sharedTcpLocal : null;

    private static async Task<TransportStream> HelloAsync(TransportConnection connection, ControlMessage hello, CancellationToken cancellationToken)
    {
        var control = await connection.OpenStreamAsync(cancellationToken);
        try
        {
            await control.WriteAsync(SingleFrame.Encode(hello.Encode()), false, cancellationToken);
            var reply = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, cancellationToken);
            if (reply is null)
            {
                throw new ConecException(ConecError.ProtocolViolation, "The coordinator ended the control stream without answering the hello.");
            }

            var message = ControlMessage.Decode(new ReadOnlySequence<byte>(reply));
            return message.Tag switch
            {
                ControlTag.HelloAccepted => control,
                ControlTag.HelloRefused => throw Refusal(message),
                _ => throw new ConecException(ConecError.ProtocolViolation, $"The coordinator answered the hello with {message.Tag}."),
            };
        }
        catch (ConecException e) when (e.Error is ConecError.ConnectionClosed or ConecError.ConnectionLost && connection.Closed.IsCompleted
            && connection.Closed.Result.Error == ConecError.HandshakeFailed)
        {
            // TLS 1.3 finishes the client's handshake before the server has judged the client certificate; a refusal
            // then arrives as a close, which the transport reports as a handshake failure.
            throw connection.Closed.Result;
        }
        catch
        {
            await control.DisposeAsync();
            throw;
        }
    }

    private static ConecException Refusal(ControlMessage message)
    {
        var error = Enum.IsDefined((ConecError)message.Number) ? (ConecError)message.Number : ConecError.ProtocolViolation;
        return new ConecException(error, $"The coordinator refused the connection: {message.Text}");
    }
}
