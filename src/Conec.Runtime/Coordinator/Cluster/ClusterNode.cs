using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;
using Conec.Concurrency;
using Conec.Transport;
using Microsoft.Extensions.Logging;

namespace Conec.Coordinator.Cluster;

/// <summary>
/// A coordinator's part in a cluster: its lease and its clients' claims in the directory, and its links to the
/// other nodes. The coordinator asks it to claim ids, to release them, and to reach clients it does not hold.
/// </summary>
internal sealed partial class ClusterNode : IAsyncDisposable
{
    private readonly ClusterConfig _config;
    private readonly CoordConfig _coordConfig;
    private readonly IClusterDirectory _directory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskGroup _tasks;
    private Coord? _coord;
    private Task _leaseLoop = Task.CompletedTask;
    private long _sessions;

    // A write the directory missed (a release, a claim during an outage) is repaired by re-asserting every claim.
    private volatile bool _reassert;
    private volatile bool _lost;
    private int _left;

    private ClusterNode(CoordConfig coordConfig, IClusterDirectory directory, TransportListener links, LinkTls tls, NodeRecord self, ILogger logger)
    {
        _coordConfig = coordConfig;
        _config = coordConfig.Cluster!;
        _directory = directory;
        _links = links;
        _tls = tls;
        _logger = logger;
        Self = self;
        _tasks = new TaskGroup(e => ClusterLog.UnexpectedFailure(_logger, e));
        _directory.NodeLeft += OnNodeLeft;
    }

    public NodeRecord Self { get; }

    public string NodeId => Self.NodeId;

    /// <summary>Where this node accepts links.</summary>
    public IPEndPoint LinkEndPoint => _links.LocalEndPoint;

    internal IClusterDirectory Directory => _directory;

    /// <summary>Listens for links, reaches the directory and registers this node; the coordinator attaches itself next.</summary>
    /// <exception cref="ConecException">
    /// A certificate that is not a node certificate of the node CA, the link address in use,
    /// <see cref="ConecError.ClusterUnavailable"/>, or <see cref="ConecError.IdInUse"/> when a live node keeps the node id.
    /// </exception>
    public static async Task<ClusterNode> StartAsync(CoordConfig coordConfig, ILogger logger, CancellationToken cancellationToken)
    {
        var config = coordConfig.Cluster!;
        var tls = LinkTls.Create(config);
        var address = config.LinkAddress ?? coordConfig.Address;
        var listener = await TransportFactory.ListenAsync(coordConfig.Transport, new IPEndPoint(address, config.LinkPort), tls.Server,
            LinkSettings(coordConfig, dialling: false), budget: null, logger, cancellationToken);
        try
        {
            var directory = await config.DirectoryFactory!(config, logger, cancellationToken);
            try
            {
                var any = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
                var self = new NodeRecord(config.NodeId, config.AdvertisedHost ?? (any ? config.NodeId : address.ToString()), listener.LocalEndPoint.Port);
                await RegisterAsync(directory, self, config, logger, cancellationToken);
                ClusterLog.Joined(logger, self.NodeId, config.Name, directory.Epoch, listener.LocalEndPoint, self.LinkHost);
                return new ClusterNode(coordConfig, directory, listener, tls, self, logger);
            }
            catch
            {
                await directory.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts serving links and renewing the lease for <paramref name="coord"/>, before it admits anyone.</summary>
    public void Attach(Coord coord)
    {
        _coord = coord;
        coord.Broadcasts.Changed = OnBroadcastChanged;
        _leaseLoop = Task.Run(LeaseLoopAsync);
        _acceptLoop = Task.Run(AcceptLinksAsync);
    }

    /// <summary>Claims the session's id across the cluster; returns the refusal to send, or null once it is claimed.</summary>
    public async Task<(ConecError Error, string Reason)?> ClaimAsync(CoordSession session, CancellationToken cancellationToken)
    {
        if (_lost || Volatile.Read(ref _left) == 1)
        {
            return (ConecError.ClusterUnavailable, $"The node '{NodeId}' is not serving the cluster any more; connect to another node.");
        }

        session.ClaimNumber = Interlocked.Increment(ref _sessions);
        try
        {
            return await _directory.ClaimAsync(session.Id, session.ClaimNumber, cancellationToken) is { } holder
                ? (ConecError.IdInUse, $"The id '{session.Id}' is in use by a client connected to the node '{holder}' of the cluster.")
                : null;
        }
        catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
        {
            // Redis may have applied the claim before the connection failed; re-asserting drops it if nobody holds it.
            _reassert = true;
            return (ConecError.ClusterUnavailable, $"The coordinator cannot check that the id '{session.Id}' is unique in the cluster: {e.Message}");
        }
    }

    /// <summary>Re-asserts every claim at the next renewal, as after an outage (tests: a conflict made by hand).</summary>
    internal void ReassertSoon() => _reassert = true;

    /// <summary>Drops the session's claim in the background (a client leaving must not wait for Redis).</summary>
    public void Release(CoordSession session)
    {
        if (Volatile.Read(ref _left) == 1 || session.ClaimNumber == 0)
        {
            return;
        }

        _tasks.Run(async () =>
        {
            try
            {
                await _directory.ReleaseAsync(session.Id, session.ClaimNumber, _stopping.Token);
            }
            catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
            {
                _reassert = true;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Disposal: leaving drops every claim of this node at once.
            }
        });
    }

    /// <summary>Clean exit, first step: drops this node's record and claims at once, so its clients can take their ids elsewhere.</summary>
    public async Task LeaveAsync()
    {
        if (Interlocked.Exchange(ref _left, 1) == 1)
        {
            return;
        }

        // The lease loop stops first: a renewal after the record is gone would write it anew and re-assert the claims.
        await _stopping.CancelAsync();
        await _leaseLoop;
        try
        {
            using var deadline = new CancellationTokenSource(_coordConfig.HelloTimeout);
            await _directory.LeaveAsync(deadline.Token);
            ClusterLog.Left(_logger, NodeId, _config.Name);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The lease lapses by itself; until then the claims wait for it, as after a crash.
            ClusterLog.DirectoryUnreachable(_logger, e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await LeaveAsync();
        await _stopping.CancelAsync();
        await _links.DisposeAsync();
        await _leaseLoop;
        await _acceptLoop;
        await CloseLinksAsync();
        await _tasks.WhenAllAsync();
        _directory.NodeLeft -= OnNodeLeft;
        await _directory.DisposeAsync();
        _stopping.Dispose();
        _recording.Dispose();
    }

    private static async Task RegisterAsync(IClusterDirectory directory, NodeRecord self, ClusterConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        // A node restarted after a crash finds its previous incarnation's lease still running: it waits for it to lapse.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var patience = config.LeaseTime * 1.5;
        while (!await directory.RegisterAsync(self, cancellationToken))
        {
            if (started.Elapsed > patience)
            {
                throw new ConecException(ConecError.IdInUse,
                    $"The node id '{self.NodeId}' is held by a live node of the cluster '{config.Name}' (its lease was renewed for {patience.TotalSeconds:0.#} s); give every node its own id.");
            }

            ClusterLog.WaitingForNodeId(logger, self.NodeId);
            await Task.Delay(config.LeaseTime / 4, cancellationToken);
        }
    }

    /// <summary>Renews the lease every third of it; re-asserts claims after an outage; sweeps dead nodes' claims now and then.</summary>
    private async Task LeaseLoopAsync()
    {
        using var timer = new PeriodicTimer(_config.LeaseTime / 3);
        var ticks = 0;
        var unreachable = false;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    var state = await _directory.RenewAsync(_stopping.Token);
                    unreachable = false;
                    if (state == LeaseState.Lost)
                    {
                        await LoseNodeIdAsync();
                        return;
                    }

                    if (state == LeaseState.Restored || _reassert)
                    {
                        _reassert = false;
                        await ReassertAsync();
                    }

                    if (++ticks % 3 == 0 && await _directory.SweepAsync(_stopping.Token) is var swept and > 0)
                    {
                        ClusterLog.Swept(_logger, swept);
                    }
                }
                catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
                {
                    _reassert = true;
                    if (!unreachable)
                    {
                        unreachable = true;
                        ClusterLog.DirectoryUnreachable(_logger, e.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposal: the loop's normal end.
        }
    }

    /// <summary>Claims every held session again; a session whose id another live node holds meanwhile ends, so one owner remains.</summary>
    private async Task ReassertAsync()
    {
        var coord = _coord!;
        var sessions = coord.ClusterSessions();
        var conflicts = await _directory.ReconcileAsync(sessions, _stopping.Token);
        ClusterLog.Reasserted(_logger, sessions.Count, conflicts.Count);
        await ReassertBroadcastsAsync();
        foreach (var id in conflicts)
        {
            ClusterLog.ClaimLost(_logger, id);
            await coord.CloseForClusterAsync(id, Protocol.ProtocolCodes.CloseIdInUse, "another client holds this id in the cluster");
        }
    }

    private async Task LoseNodeIdAsync()
    {
        _lost = true;
        ClusterLog.NodeIdLost(_logger, NodeId);
        foreach (var (id, _) in _coord!.ClusterSessions())
        {
            await _coord.CloseForClusterAsync(id, Protocol.ProtocolCodes.CloseShutdown, "this coordinator lost its place in the cluster");
        }
    }

    /// <summary>Settings of links: as a client connection to the coordinator, but with room for many clients' streams at once.</summary>
    private static TransportSettings LinkSettings(CoordConfig config, bool dialling)
    {
        var settings = new TransportSettings
        {
            IdleTimeout = config.IdleTimeout,

            // The dialling node keeps the link alive, as a client keeps its coordinator connection; the other answers.
            KeepAliveInterval = dialling ? config.IdleTimeout / 3 : null,
            HandshakeTimeout = config.HelloTimeout,

            // One link carries the streams of every client pair across two nodes: QUIC's largest stream count, and
            // a connection window of several clients' worth, since the link is what all of them share.
            MaxInboundStreams = ushort.MaxValue,
            StreamReceiveWindow = config.StreamBuffer,
            ConnectionReceiveWindow = Math.Max(config.ClientBuffer, 64 * 1024 * 1024),
        };
        settings.Validate();
        return settings;
    }

    /// <summary>The node certificate and CA, as both ends of a link use them.</summary>
    private sealed record LinkTls(X509Certificate2 Certificate, X509Certificate2 Authority, TransportServerTls Server)
    {
        public static LinkTls Create(ClusterConfig config)
        {
            var certificate = config.ResolveCertificate();
            var authority = config.ResolveAuthority();
            if (!certificate.MatchesHostname(config.NodeId, allowWildcards: false, allowCommonName: false))
            {
                throw new ConecException(ConecError.InvalidConfiguration,
                    $"CoordConfig.Cluster.Certificate ('{certificate.Subject}') is not valid for the node id '{config.NodeId}'.");
            }

            if (CheckNode(certificate, authority) is { } reason)
            {
                throw new ConecException(ConecError.InvalidConfiguration, $"CoordConfig.Cluster.Certificate is not a node certificate: {reason}.");
            }

            return new LinkTls(certificate, authority, new TransportServerTls(certificate, null, presented => CheckNode(presented, authority)));
        }

        public TransportClientTls Client(string nodeId) => new(nodeId, Certificate)
        {
            TrustedAuthorities = [Authority],
            TrustSystemRoots = false,
            ValidateServerCertificate = presented => CheckNode(presented, Authority),
        };

        /// <summary>A node certificate follows the client rules (conec-reference §4) with the node CA as the one anchor.</summary>
        private static string? CheckNode(X509Certificate2 presented, X509Certificate2 authority) =>
            CertificatePolicy.CheckPeer(presented, authority) is { } reason ? $"not a node of this cluster ({reason.Replace("client CA", "node CA", StringComparison.Ordinal)})" : null;
    }
}
