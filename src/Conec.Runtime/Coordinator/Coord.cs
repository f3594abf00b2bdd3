using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Threading.Channels;
using Conec.Certificates;
using Conec.Concurrency;
using Conec.Coordinator;
using Conec.Coordinator.Broadcast;
using Conec.Coordinator.Cluster;
using Conec.Protocol;
using Conec.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec;

/// <summary>
/// The coordinator: admits clients by certificate and id, relays proxied streams between them, and talks to them
/// on streams of its own. Start one with <see cref="StartAsync"/>; it serves in the background until disposed.
/// </summary>
public sealed partial class Coord : IAsyncDisposable
{
    // The transport's inbound stream limit counts the control stream, which MaxStreamsPerClient does not.
    private const int ControlStreams = 1;

    private readonly TransportListener _listener;
    private readonly CoordConfig _config;
    private readonly ILogger _logger;
    private readonly Diagnostics.ConecMetrics _metrics;
    private readonly ConnectionBudget _budget;
    private readonly IDisposable _capacityGauge;
    private readonly ConcurrentDictionary<string, CoordSession> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<IncomingStream> _incoming;
    private int _incomingReaders;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskGroup _connections;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private int _disposed;

    private Coord(TransportListener listener, CoordConfig config, ConnectionBudget budget, Diagnostics.ConecMetrics metrics, ILogger logger, ClusterNode? cluster)
    {
        _listener = listener;
        _config = config;
        _budget = budget;
        _logger = logger;
        _incoming = Channel.CreateBounded<IncomingStream>(new BoundedChannelOptions(config.IncomingStreamBacklog) { SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
        _metrics = metrics;
        _capacityGauge = metrics.TrackCapacity(() => budget.Capacity);
        _connections = new TaskGroup(e => CoordLog.UnexpectedFailure(_logger, e));
        Broadcasts = new BroadcastHub(_metrics, _shutdown.Token);
        _cluster = cluster;
        cluster?.Attach(this);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The bound address; with <see cref="CoordConfig.Port"/> 0 this carries the port the OS chose.</summary>
    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>Clients registered right now: each passed the hello and holds a unique id.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>
    /// The clients this coordinator holds at most, counting connections still in their handshake:
    /// <see cref="CoordConfig.MaxClients"/>, or what was derived from the descriptor limit when it is unset.
    /// </summary>
    public int MaxClients => _budget.Capacity;

    /// <summary>The handshakes it lets run at once: <see cref="CoordConfig.MaxPendingHandshakes"/>, or the value derived when it is unset.</summary>
    public int MaxPendingHandshakes => _budget.MaxPending;

    /// <summary>
    /// Broadcast channels alive on this coordinator right now: each has at least one member still writing and one
    /// still reading. In a cluster, this node's; <see cref="GetBroadcastsAsync"/> is the whole cluster's.
    /// </summary>
    public int BroadcastCount => Broadcasts.Count;

    /// <summary>
    /// Streams clients opened to the coordinator itself (<c>Client.NewProxiedStreamAsync(null)</c>), as
    /// <c>(clientId, streamId, send, receive)</c>. Ends when the coordinator is disposed. While nothing enumerates
    /// it, such streams are refused with <see cref="ConecError.NotServed"/>: start reading before clients connect.
    /// </summary>
    public IAsyncEnumerable<IncomingStream> IncomingStreams => ReadIncomingAsync();

    /// <summary>
    /// Completes when the coordinator has stopped: successfully after <see cref="DisposeAsync"/>, faulted if it
    /// could no longer accept connections.
    /// </summary>
    public Task Completion => _completion.Task;

    internal CoordConfig Config => _config;

    internal ILogger Logger => _logger;

    internal Diagnostics.ConecMetrics Metrics => _metrics;

    internal BroadcastHub Broadcasts { get; }

    internal ConnectionBudget Budget => _budget;

    /// <summary>Binds the listener and starts admitting clients; returns once it is listening.</summary>
    /// <exception cref="ConecException">The configuration is invalid, a certificate cannot be read, or the address cannot be bound.</exception>
    public static async Task<Coord> StartAsync(CoordConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var logger = (config.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Coord>();
        var descriptorLimit = DescriptorLimit.Read(out var whyNoLimit);
        var limits = CoordLimits.Resolve(config.MaxClients, config.MaxPendingHandshakes, descriptorLimit, whyNoLimit);
        var metrics = Diagnostics.ConecMetrics.For(config.MeterFactory);
        var budget = new ConnectionBudget(limits.MaxClients, limits.MaxPendingHandshakes, metrics);
        var clientAuthority = config.ResolveClientAuthority();
        var tls = new TransportServerTls(config.ResolveCertificate(), config.ResolveChain(),
            certificate => CertificatePolicy.CheckPeer(certificate, clientAuthority));
        var settings = new TransportSettings
        {
            IdleTimeout = config.IdleTimeout,
            HandshakeTimeout = config.HelloTimeout,
            MaxInboundStreams = config.MaxStreamsPerClient + ControlStreams,
            StreamReceiveWindow = config.StreamBuffer,
            ConnectionReceiveWindow = config.ClientBuffer,

            // Clients keep their connections alive (conec's design); the coordinator answers their pings.
            KeepAliveInterval = null,
        };
        settings.Validate();
        var listener = await TransportFactory.ListenAsync(config.Transport, new IPEndPoint(config.Address, config.Port), tls, settings, budget, logger, cancellationToken);
        ClusterNode? cluster;
        try
        {
            cluster = config.Cluster is null ? null : await ClusterNode.StartAsync(config, logger, cancellationToken);
        }
        catch
        {
            await listener.DisposeAsync();
            throw;
        }

        CoordLog.Listening(logger, listener.LocalEndPoint, config.Transport);
        CoordLog.Capacity(logger, limits.MaxClients, limits.MaxPendingHandshakes, limits.Source);
        return new Coord(listener, config, budget, metrics, logger, cluster);
    }

    /// <summary>Opens a stream from the coordinator to a connected client, with the next automatic stream id.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.UnknownPeer"/> if no such client is connected, or the connection's failure.</exception>
    public ValueTask<StreamPair> NewStreamAsync(string clientId, CancellationToken cancellationToken = default)
    {
        if (GetClient(clientId) is not { } session)
        {
            return OpenInClusterAsync(clientId, null, cancellationToken);
        }

        return session.OpenFromCoordinatorAsync(session.CoordinatorStreamIds.Next(), cancellationToken);
    }

    /// <summary>Opens a stream from the coordinator to a connected client with an id of your choosing (below 2^63, never reused per client).</summary>
    /// <exception cref="ConecException"><see cref="ConecError.UnknownPeer"/>, <see cref="ConecError.StreamIdInUse"/>, or the connection's failure.</exception>
    public ValueTask<StreamPair> NewStreamAsync(string clientId, ulong streamId, CancellationToken cancellationToken = default)
    {
        if (GetClient(clientId) is not { } session)
        {
            return OpenInClusterAsync(clientId, streamId, cancellationToken);
        }

        session.CoordinatorStreamIds.Claim(streamId);
        return session.OpenFromCoordinatorAsync(streamId, cancellationToken);
    }

    /// <summary>
    /// Stops accepting, closes every client's connection (their pending operations fail with
    /// <see cref="ConecError.ConnectionClosed"/>), and waits for all background work to end.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _completion.Task.ContinueWith(static _ => { }, TaskScheduler.Default);
            return;
        }

        await _shutdown.CancelAsync();
        if (_cluster is not null)
        {
            // Released while the clients are being closed, so that they can take their ids to another node at once.
            await _cluster.LeaveAsync();
        }

        await _listener.DisposeAsync();
        await _acceptLoop;
        await _connections.WhenAllAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _incoming.Writer.TryComplete();
        _capacityGauge.Dispose();
        _shutdown.Dispose();
        CoordLog.Stopped(_logger);
        _completion.TrySetResult();
    }

    internal bool TryGetClient(string id, [NotNullWhen(true)] out CoordSession? session) => _clients.TryGetValue(id, out session);

    /// <summary>Whether a stream opened to the coordinator would be taken: someone reads, and the backlog has room.</summary>
    internal string? WhyNotServed() => Volatile.Read(ref _incomingReaders) == 0
        ? "Nothing on the coordinator takes streams opened to it (nothing reads Coord.IncomingStreams)."
        : _incoming.Reader.Count >= _config.IncomingStreamBacklog
            ? $"The coordinator's {_config.IncomingStreamBacklog} streams waiting to be taken (CoordConfig.IncomingStreamBacklog) are not taken yet."
            : null;

    /// <summary>Hands a client's stream to the coordinator's user; false once the coordinator is shutting down or its backlog is full.</summary>
    internal bool Deliver(IncomingStream stream) => _incoming.Writer.TryWrite(stream);

    private async IAsyncEnumerable<IncomingStream> ReadIncomingAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _incomingReaders);
        try
        {
            while (await _incoming.Reader.WaitToReadAsync(cancellationToken))
            {
                while (_incoming.Reader.TryRead(out var stream))
                {
                    yield return stream;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _incomingReaders);
        }
    }

    internal void Unregister(CoordSession session)
    {
        if (_clients.TryRemove(new KeyValuePair<string, CoordSession>(session.Id, session)))
        {
            _metrics.Clients.Add(-1);
            _cluster?.Release(session);
            CoordLog.ClientLeft(_logger, session.Id, session.Connection.RemoteEndPoint, _clients.Count);
        }
    }

    /// <summary>The local session of <paramref name="clientId"/>; null when it may be on another node of the cluster.</summary>
    private CoordSession? GetClient(string clientId)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return TryGetClient(clientId, out var session)
            ? session
            : _cluster is not null
            ? null
            : throw new ConecException(ConecError.UnknownPeer, $"No client with id '{clientId}' is connected to this coordinator.");
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var connection = await _listener.AcceptConnectionAsync(_shutdown.Token);
                _connections.Run(() => ServeConnectionAsync(connection));
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Disposal: the loop's normal end.
        }
        catch (ConecException) when (_shutdown.IsCancellationRequested)
        {
            // The listener was disposed under the pending accept: also the normal end.
        }
        catch (Exception e)
        {
            // The listener ended for good (it only ends at disposal otherwise): Completion says so rather than hang.
            CoordLog.AcceptFailed(_logger, e);
            _completion.TrySetException(e);
        }
    }
}
