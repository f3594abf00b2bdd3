using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Conec.Certificates;
using Conec.Transport;
using Conec.Transport.Tcp;

namespace Conec;

/// <summary>
/// Hole punching for direct channels over TCP (docs/architecture.md, "NAT hole punching"). Both sides connect from
/// the port their coordinator connection uses towards each other's candidate addresses at once; whichever socket
/// comes up first (connected, or taken by the listener on that port) carries TLS, with the TLS server role taken by
/// the side whose id sorts first, since in a simultaneous open nobody dialled. The initiator then says hello on the
/// one it picked, exactly as on a dialled channel, and the target admits it as it admits any.
/// </summary>
internal sealed partial class DirectChannels
{
    /// <summary>
    /// How long both sides punch before the initiator gives up with <see cref="ConecError.PeerUnreachable"/>. Through
    /// NATs that keep ports, a punch completes within a few round trips; a NAT that picks a new port per destination
    /// never lets one through, and then this bounds the wait (NewStreamAsync falls back sooner, at its own timeout).
    /// </summary>
    internal static readonly TimeSpan PunchWindow = TimeSpan.FromSeconds(3);

    private readonly Dictionary<string, PendingPunch> _punches = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The listener offers each accepted socket: one from a peer being punched belongs to that punch. While a channel
    /// request is still with the coordinator, the peer (told first) may already be punching: an unmatched socket
    /// then waits with that request until its route says whose it is.
    /// </summary>
    private bool ClaimPunchedSocket(Socket socket, Action<Socket> handshake)
    {
        if (socket.RemoteEndPoint is not IPEndPoint { } raw)
        {
            return false;
        }

        var remote = new IPEndPoint(Unmapped(raw.Address), raw.Port);
        PendingPunch? match;
        lock (_lock)
        {
            // The exact address first; else an address only one punch expects (a peer whose NAT kept the address but
            // not the port); else a port only one punch expects (a peer whose packets come from an address nobody
            // reported). Anything else is an ordinary dialled channel, and gets the ordinary server handshake.
            var routed = _punches.Values.Where(p => p.Candidates is not null).ToArray();
            match = routed.FirstOrDefault(p => p.Candidates!.Contains(remote))
                ?? Single(routed.Where(p => p.Candidates!.Any(c => c.Address.Equals(remote.Address))))
                ?? Single(routed.Where(p => p.Candidates!.Any(c => c.Port == remote.Port)));
            if (match is null && _punches.Values.FirstOrDefault(p => p.Candidates is null) is { } brokering)
            {
                brokering.Parked.Add((socket, handshake));
                return true;
            }
        }

        return match is not null && match.Accepted.Writer.TryWrite(socket);
    }

    /// <summary>The initiator's side: punch until one socket carries a TLS session with the peer, or the window ends.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.PeerUnreachable"/> when no socket came up, or none passed TLS.</exception>
    private async Task<TransportConnection> PunchToAsync(PendingPunch punch, string peer, IReadOnlyList<IPEndPoint> candidates, byte[] vouched, CancellationToken cancellationToken)
    {
        var window = Window();
        Resolve(punch, candidates);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        running.CancelAfter(window);
        var established = Channel.CreateUnbounded<Socket>();
        var punching = TcpPunch.RunAsync(_sharedTcp!, candidates, punch.Accepted.Reader, established.Writer, running.Token);
        ConecException? last = null;
        try
        {
            while (await established.Reader.WaitToReadAsync(cancellationToken))
            {
                while (established.Reader.TryRead(out var socket))
                {
                    try
                    {
                        var connection = await SecureAsync(socket, peer, vouched, cancellationToken);
                        ClientLog.Punched(_logger, _id, peer, connection.RemoteEndPoint);
                        return connection;
                    }
                    catch (ConecException e)
                    {
                        // Not the peer after all (another host at a private address), or the socket died: try the next.
                        last = e;
                    }
                }
            }
        }
        finally
        {
            await running.CancelAsync();
            await punching;
            Unregister(punch);
            DisposeAll(established.Reader);
        }

        throw new ConecException(ConecError.PeerUnreachable,
            $"No direct path to '{peer}' was found within {window.TotalSeconds:0.#} s (tried {string.Join(", ", candidates)} from port {_sharedTcp!.Port}"
            + (last is null ? "; nothing answered" : $"; the last attempt failed: {last.Message}")
            + "). A NAT that picks a new port for every destination, or a firewall, is in the way; a proxied stream still reaches the peer.", last);
    }

    /// <summary>The target's side: punch towards the initiator, and admit whichever socket it says hello on.</summary>
    private async Task PunchFromTargetAsync(PendingPunch punch, string peer, IReadOnlyList<IPEndPoint> candidates, byte[] vouched)
    {
        using var running = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token, punch.Stop.Token);
        running.CancelAfter(Window());
        var established = Channel.CreateUnbounded<Socket>();
        var punching = TcpPunch.RunAsync(_sharedTcp!, candidates, punch.Accepted.Reader, established.Writer, running.Token);
        try
        {
            // Ends when the punch does: its window passed, the channel was admitted, or this client is disposed.
            await foreach (var socket in established.Reader.ReadAllAsync(CancellationToken.None))
            {
                _tasks.Run(() => SecureAndAdmitAsync(socket, peer, vouched));
            }
        }
        finally
        {
            await punching;
            Unregister(punch);
        }
    }

    private async Task SecureAndAdmitAsync(Socket socket, string peer, byte[] vouched)
    {
        TransportConnection connection;
        try
        {
            connection = await SecureAsync(socket, peer, vouched, _shutdown.Token);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The initiator picked another socket and closed this one, or it was not the peer.
            ClientLog.PunchedSocketFailed(_logger, _id, peer, e.Message);
            return;
        }

        await AdmitAsync(connection);
    }

    /// <summary>TLS on a punched socket, in the role the ids give, with the peer's certificate pinned either way.</summary>
    private Task<TransportConnection> SecureAsync(Socket socket, string peer, byte[] vouched, CancellationToken cancellationToken)
    {
        if (string.Compare(_id, peer, StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return TcpHandshake.AsClientAsync(socket, PeerTls(peer, vouched), _settings, _logger, cancellationToken);
        }

        var authority = _clientAuthority;
        var tls = new TransportServerTls(_certificate, null, presented => CertificatePolicy.CheckPeer(presented, authority)
            ?? (presented.RawData.AsSpan().SequenceEqual(vouched) ? null : $"the certificate '{presented.Subject}' differs from the one the coordinator vouched for '{peer}'"));
        return TcpHandshake.AsServerAsync(socket, tls, _settings, _logger, cancellationToken);
    }

    private TimeSpan Window() => PunchWindow < _config.ConnectTimeout ? PunchWindow : _config.ConnectTimeout;

    /// <summary>Registers a punch whose route is still with the coordinator (the initiator's, before the answer).</summary>
    private PendingPunch Register(string peer) => Register(peer, null);

    private PendingPunch Register(string peer, IReadOnlyList<IPEndPoint>? candidates)
    {
        var punch = new PendingPunch { Candidates = candidates is null ? null : Normalized(candidates) };
        lock (_lock)
        {
            _punches[peer] = punch;
        }

        return punch;
    }

    /// <summary>The route arrived: sockets that waited for it go to this punch, to another, or to the ordinary handshake.</summary>
    private void Resolve(PendingPunch punch, IReadOnlyList<IPEndPoint> candidates)
    {
        List<(Socket, Action<Socket>)> parked;
        lock (_lock)
        {
            punch.Candidates = Normalized(candidates);
            parked = [.. punch.Parked];
            punch.Parked.Clear();
        }

        Redispatch(parked);
    }

    private void Unregister(PendingPunch punch)
    {
        List<(Socket, Action<Socket>)> parked;
        lock (_lock)
        {
            foreach (var (peer, current) in _punches)
            {
                if (current == punch)
                {
                    _punches.Remove(peer);
                    break;
                }
            }

            parked = [.. punch.Parked];
            punch.Parked.Clear();
        }

        punch.Accepted.Writer.TryComplete();
        DisposeAll(punch.Accepted.Reader);
        Redispatch(parked);
    }

    private void Redispatch(List<(Socket Socket, Action<Socket> Handshake)> sockets)
    {
        foreach (var (socket, handshake) in sockets)
        {
            if (!ClaimPunchedSocket(socket, handshake))
            {
                handshake(socket);
            }
        }
    }

    private static IPEndPoint[] Normalized(IReadOnlyList<IPEndPoint> candidates) => [.. candidates.Select(c => new IPEndPoint(Unmapped(c.Address), c.Port))];

    /// <summary>A channel with <paramref name="peer"/> was admitted: the target's punch towards it can stop.</summary>
    private void StopPunching(string peer)
    {
        PendingPunch? punch;
        lock (_lock)
        {
            _punches.TryGetValue(peer, out punch);
        }

        punch?.Stop.Cancel();
    }

    private static void DisposeAll(ChannelReader<Socket> sockets)
    {
        while (sockets.TryRead(out var socket))
        {
            socket.Dispose();
        }
    }

    private static PendingPunch? Single(IEnumerable<PendingPunch> punches)
    {
        PendingPunch? found = null;
        foreach (var punch in punches)
        {
            if (found is not null)
            {
                return null;
            }

            found = punch;
        }

        return found;
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>A punch in progress: where its peer may appear from, the sockets the listener took for it, and its stop.</summary>
    private sealed class PendingPunch
    {
        /// <summary>Null while the route is still with the coordinator; set under the registry's lock.</summary>
        public IPEndPoint[]? Candidates { get; set; }

        /// <summary>Sockets that arrived before the route, with the way back to the ordinary handshake; under the registry's lock.</summary>
        public List<(Socket Socket, Action<Socket> Handshake)> Parked { get; } = [];

        public Channel<Socket> Accepted { get; } = Channel.CreateUnbounded<Socket>();

        /// <summary>Cancelled once the channel is admitted; never disposed, as it holds no timer and may be cancelled late.</summary>
        public CancellationTokenSource Stop { get; } = new();
    }
}
