using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;
using Conec.Concurrency;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;
using Microsoft.Extensions.Logging;

namespace Conec;

/// <summary>
/// A client's direct channels: at most one per peer, in either direction. It listens for channels the coordinator
/// announced (each peer's certificate pinned to the one the coordinator vouched for) and connects out for channels
/// this client asks for.
/// </summary>
internal sealed partial class DirectChannels : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DirectChannel> _channels = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, byte[]> _expected = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _id;
    private readonly ClientConfig _config;
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2? _clientAuthority;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly Func<IncomingStream, bool> _deliver;
    private readonly TaskGroup _tasks;
    private readonly CancellationTokenSource _shutdown = new();
    private TransportListener? _listener;
    private IPEndPoint? _sharedTcp;

    private DirectChannels(ClientConfig config, X509Certificate2 certificate, TransportSettings settings, ILogger logger, Func<IncomingStream, bool> deliver)
    {
        _id = config.Id;
        _config = config;
        _certificate = certificate;
        _clientAuthority = config.ResolveClientAuthority();
        _settings = settings;
        _logger = logger;
        _deliver = deliver;
        _tasks = new TaskGroup(e => ClientLog.UnexpectedFailure(_logger, e));
    }

    /// <summary>The port peers connect to, or 0 when this client does not accept direct channels.</summary>
    public int ListenPort => _listener?.LocalEndPoint.Port ?? 0;

    /// <summary>
    /// The TCP listener's address, whose port the coordinator connection and hole-punching connects share; null
    /// when this client has no TCP listener (it does not listen, or listens over QUIC alone).
    /// </summary>
    public IPEndPoint? SharedTcpEndPoint => _sharedTcp;

    public static async Task<DirectChannels> StartAsync(
        ClientConfig config, X509Certificate2 certificate, TransportSettings settings, ILogger logger,
        Func<IncomingStream, bool> deliver, CancellationToken cancellationToken)
    {
        var channels = new DirectChannels(config, certificate, settings, logger, deliver);
        if (config.Listen)
        {
            var authority = channels._clientAuthority;
            var tls = new TransportServerTls(certificate, null, peer => CertificatePolicy.CheckPeer(peer, authority));
            // By default only on the interface that leads to the coordinator, not every interface (docs/security.md), and
            // on the source port when one is configured, since the coordinator connection shares the listener's port.
            var endPoint = config.ListenEndPoint
                ?? new IPEndPoint(await LocalAddressTowardsCoordinatorAsync(config, cancellationToken), config.SourceEndPoint?.Port ?? 0);
            Func<Socket, Action<Socket>, bool>? claim = config.Transport == TransportMode.Quic ? null : channels.ClaimPunchedSocket;
            channels._listener = await TransportFactory.ListenAsync(config.Transport, endPoint, tls, settings, budget: null, claim, logger, cancellationToken);
            channels._sharedTcp = claim is null ? null : channels._listener.LocalEndPoint;
            channels._tasks.Run(channels.AcceptLoopAsync);
        }

        return channels;
    }

    /// <summary>Where this client accepts direct channels, or null when it does not.</summary>
    internal IPEndPoint? ListenEndPoint => _listener?.LocalEndPoint;

    /// <summary>The local address the OS routes towards the coordinator: the one the coordinator sees, NAT aside.</summary>
    private static async Task<IPAddress> LocalAddressTowardsCoordinatorAsync(ClientConfig config, CancellationToken cancellationToken)
    {
        if (config.SourceEndPoint is { } source)
        {
            return source.Address;
        }

        try
        {
            var coordinator = config.CoordinatorEndPoint?.Address ?? config.CoordinatorEndPoints.FirstOrDefault()?.Address ?? (await Dns.GetHostAddressesAsync(config.CoordinatorHost, cancellationToken))[0];
            using var probe = new Socket(coordinator.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(coordinator, config.CoordinatorPort); // a UDP connect sends nothing: it only picks the route
            return ((IPEndPoint)probe.LocalEndPoint!).Address;
        }
        catch (Exception e) when (e is SocketException or IndexOutOfRangeException)
        {
            throw new ConecException(ConecError.ConnectionRefused,
                $"No route to the coordinator '{config.CoordinatorHost}' was found to listen for direct channels on: {e.Message}", e);
        }
    }

    /// <summary>The connected channel to <paramref name="peer"/>, waiting while it is being set up; null if there is none.</summary>
    public async ValueTask<DirectChannel?> FindAsync(string peer, CancellationToken cancellationToken)
    {
        DirectChannel? channel;
        lock (_lock)
        {
            _channels.TryGetValue(peer, out channel);
        }

        if (channel is null || !channel.IsAlive)
        {
            return null;
        }

        await channel.Ready.WaitAsync(cancellationToken);
        return channel;
    }

    /// <summary>
    /// The coordinator announces <paramref name="offer"/>'s peer: expect it with exactly the certificate offered, and
    /// when both sides share their ports, open towards its candidates at once (hole punching).
    /// </summary>
    public (ConecError Error, string Reason)? OnOffer(StreamHeader offer)
    {
        var refusal = Expect(offer.Name!, offer.Certificate!);
        if (refusal is null && offer.Punch && _sharedTcp is not null)
        {
            // Registered before the answer leaves: the initiator's first SYN may arrive right after it.
            var punch = Register(offer.Name!, offer.Candidates);
            _tasks.Run(() => PunchFromTargetAsync(punch, offer.Name!, offer.Candidates, offer.Certificate!));
        }

        return refusal;
    }

    private (ConecError Error, string Reason)? Expect(string peer, byte[] certificate)
    {
        lock (_lock)
        {
            if (_listener is null)
            {
                return (ConecError.ChannelRefused, $"The client '{_id}' does not accept direct channels.");
            }

            if (_channels.TryGetValue(peer, out var existing) && existing.IsAlive)
            {
                return (ConecError.ChannelExists, $"A direct channel between '{peer}' and '{_id}' already exists or is being set up.");
            }

            _expected[peer] = certificate;
            return null;
        }
    }

    /// <summary>Asks for a channel to <paramref name="peer"/> through <paramref name="broker"/>, then connects to it.</summary>
    public async Task OpenAsync(string peer, Func<CancellationToken, ValueTask<ChannelRoute>> broker, CancellationToken cancellationToken)
    {
        var channel = new DirectChannel(peer);
        lock (_lock)
        {
            if (_channels.TryGetValue(peer, out var existing) && existing.IsAlive)
            {
                throw new ConecException(ConecError.ChannelExists, $"A direct channel between '{_id}' and '{peer}' already exists or is being set up.");
            }

            _channels[peer] = channel;
        }

        try
        {
            // The peer may start punching before the route reaches this side: its sockets wait for the route here.
            var punch = _sharedTcp is null ? null : Register(peer);
            ChannelRoute route;
            try
            {
                route = await broker(cancellationToken);
            }
            catch
            {
                if (punch is not null)
                {
                    Unregister(punch);
                }

                throw;
            }

            if (punch is not null && !route.Punch)
            {
                Unregister(punch);
            }

            var (connection, control) = punch is not null && route.Punch
                ? await HelloAsync(peer, await PunchToAsync(punch, peer, route.Candidates, route.Certificate, cancellationToken), cancellationToken)
                : await ConnectAsync(peer, route.EndPoint, route.Certificate, cancellationToken);
            channel.Connected(connection, control);
            _tasks.Run(() => ServeAsync(channel));
        }
        catch (Exception e)
        {
            Forget(channel);
            channel.Failed(e);
            throw;
        }
    }

    /// <exception cref="ConecException"><see cref="ConecError.NoChannel"/> when there is no channel to <paramref name="peer"/>.</exception>
    public async Task CloseAsync(string peer, CancellationToken cancellationToken)
    {
        DirectChannel? channel;
        lock (_lock)
        {
            if (_channels.Remove(peer, out channel) && !channel.IsAlive)
            {
                channel = null;
            }
        }

        if (channel is null)
        {
            throw new ConecException(ConecError.NoChannel, $"There is no direct channel between '{_id}' and '{peer}'.");
        }

        await channel.Ready.WaitAsync(cancellationToken);

        // Goodbye: finish the control stream and wait (bounded) for the peer to finish its own, which it does once it
        // has forgotten the channel. When this returns, either side can open a new channel at once.
        channel.Control!.CompleteWrites();
        try
        {
            await channel.PeerGoodbye.WaitAsync(_config.ConnectTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            ClientLog.ChannelRefused(_logger, _id, peer, "the peer did not answer the goodbye in time; closing anyway");
        }

        await channel.Connection.CloseAsync(ProtocolCodes.CloseNormal, "the direct channel was closed", cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _shutdown.CancelAsync();
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        DirectChannel[] open;
        lock (_lock)
        {
            open = [.. _channels.Values];
            _channels.Clear();
        }

        foreach (var channel in open.Where(c => c.Ready.IsCompletedSuccessfully))
        {
            await channel.Connection.DisposeAsync();
        }

        await _tasks.WhenAllAsync();
        _shutdown.Dispose();
    }

    private async Task<(TransportConnection Connection, TransportStream Control)> ConnectAsync(
        string peer, IPEndPoint endPoint, byte[] vouched, CancellationToken cancellationToken)
    {
        var connection = await TransportFactory.ConnectAsync(_config.Transport, endPoint, null, PeerTls(peer, vouched), _settings, _logger, cancellationToken);
        return await HelloAsync(peer, connection, cancellationToken);
    }

    /// <summary>TLS towards <paramref name="peer"/> as its server would be checked: the very certificate the coordinator relayed.</summary>
    private TransportClientTls PeerTls(string peer, byte[] vouched)
    {
        X509Certificate2 anchor;
        try
        {
            anchor = _clientAuthority ?? X509CertificateLoader.LoadCertificate(vouched);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"The certificate the coordinator relayed for '{peer}' is unreadable: {e.Message}", e);
        }

        // The peer's certificate must be the very one the coordinator relayed; in self-signed mode it is also its own anchor.
        return new TransportClientTls(peer, _certificate)
        {
            TrustedAuthorities = [anchor],
            TrustSystemRoots = false,
            ValidateServerCertificate = presented => presented.RawData.AsSpan().SequenceEqual(vouched)
                ? null
                : $"the certificate '{presented.Subject}' differs from the one the coordinator vouched for",
        };
    }

    /// <summary>The initiator's hello on a new channel connection, whoever dialled; the connection is disposed if it fails.</summary>
    private async Task<(TransportConnection Connection, TransportStream Control)> HelloAsync(string peer, TransportConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_config.ConnectTimeout);
            var control = await connection.OpenStreamAsync(deadline.Token);
            await control.WriteAsync(SingleFrame.Encode(ControlMessage.Hello(_id, ProtocolConstants.Version).Encode()), false, deadline.Token);
            var reply = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ChannelRefused, $"'{peer}' ended the channel's control stream without answering.");
            var message = ControlMessage.Decode(new ReadOnlySequence<byte>(reply));
            if (message.Tag == ControlTag.HelloRefused)
            {
                var error = Enum.IsDefined((ConecError)message.Number) ? (ConecError)message.Number : ConecError.ChannelRefused;
                throw new ConecException(error, $"'{peer}' refused the direct channel: {message.Text}");
            }

            return message.Tag == ControlTag.HelloAccepted
                ? (connection, control)
                : throw new ConecException(ConecError.ProtocolViolation, $"'{peer}' answered the hello with {message.Tag}.");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private void Forget(DirectChannel channel)
    {
        lock (_lock)
        {
            if (_channels.TryGetValue(channel.Peer, out var current) && current == channel)
            {
                _channels.Remove(channel.Peer);
            }
        }
    }
}
