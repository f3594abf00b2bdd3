using System.Buffers;
using System.Net;
using System.Threading.Channels;
using Conec.Concurrency;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec;

/// <summary>
/// A client of a coordinator: it holds one authenticated channel to the coordinator, opens streams to other
/// clients (relayed) or to the coordinator, and receives the streams others open to it.
/// </summary>
public sealed partial class Client : IAsyncDisposable
{
    private readonly ClientConfig _config;
    private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _certificate;
    private readonly TransportSettings _settings;
    private readonly ILogger _logger;
    private readonly Diagnostics.ConecMetrics _metrics;
    private readonly Channel<IncomingStream> _incoming;
    private readonly DirectChannels _channels;
    private readonly StreamIdAllocator _streamIds = new();
    private readonly BroadcastMemberships _memberships = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskGroup _arrivals;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile CoordinatorLink _link;
    private Task _reconnecting = Task.CompletedTask;
    private int _disposed;

    private Client(ClientConfig config, Identity identity, ClientConnector.Connected connected, Channel<IncomingStream> incoming, DirectChannels channels)
    {
        _config = config;
        _certificate = identity.Certificate;
        _settings = identity.Settings;
        _logger = identity.Logger;
        _metrics = Diagnostics.ConecMetrics.For(config.MeterFactory);
        _incoming = incoming;
        _channels = channels;
        _arrivals = new TaskGroup(e => ClientLog.UnexpectedFailure(_logger, e));
        _link = Start(new CoordinatorLink(connected.Connection, connected.Control));
    }

    /// <summary>Raised when the coordinator connection is lost and <see cref="ClientConfig.Reconnect"/> is on: reconnection starts.</summary>
    public event EventHandler<DisconnectedEventArgs>? Disconnected;

    /// <summary>Raised when the client has reconnected with its id and re-joined its broadcasts.</summary>
    public event EventHandler<ReconnectedEventArgs>? Reconnected;

    /// <summary>This client's id, as every peer sees it.</summary>
    public string Id => _config.Id;

    /// <summary>The transport the coordinator connection uses (QUIC or TCP).</summary>
    public TransportMode Transport => _link.Connection.Mode;

    /// <summary>The coordinator's address.</summary>
    public IPEndPoint CoordinatorEndPoint => _link.Connection.RemoteEndPoint;

    /// <summary>This client's address on the coordinator connection.</summary>
    public IPEndPoint LocalEndPoint => _link.Connection.LocalEndPoint;

    /// <summary>
    /// Streams opened to this client, as <c>(peer, streamId, send, receive)</c> with <c>peer == null</c> for the
    /// coordinator. Ends when the client is disposed; throws <see cref="ConecException"/> if the coordinator
    /// connection is lost (with <see cref="ClientConfig.Reconnect"/> on, it continues across reconnections).
    /// </summary>
    public IAsyncEnumerable<IncomingStream> IncomingStreams => _incoming.Reader.ReadAllAsync();

    /// <summary>The direct channels, for tests that speak raw protocol over them.</summary>
    internal DirectChannels DirectChannels => _channels;

    /// <summary>Completes when the coordinator connection ends: successfully after <see cref="DisposeAsync"/>, else faulted with the reason.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Connects to the coordinator and registers <see cref="ClientConfig.Id"/>; returns once the coordinator has counted this client.</summary>
    /// <exception cref="ConecException">
    /// <see cref="ConecError.IdInUse"/>, <see cref="ConecError.IdentityRejected"/>, <see cref="ConecError.VersionMismatch"/>,
    /// <see cref="ConecError.HandshakeFailed"/>, <see cref="ConecError.ConnectionRefused"/>, <see cref="ConecError.Timeout"/> or
    /// <see cref="ConecError.InvalidConfiguration"/>, each with a message that says what to fix.
    /// </exception>
    public static async Task<Client> ConnectAsync(ClientConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var logger = (config.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<Client>();
        var certificate = ClientConnector.ResolveIdentity(config);
        var settings = ClientConnector.Settings(config);

        // Streams arrive from the coordinator and from direct channels; the transports' stream limits bound the queue.
        var incoming = Channel.CreateUnbounded<IncomingStream>();
        var channels = await DirectChannels.StartAsync(config, certificate, settings, logger, stream => incoming.Writer.TryWrite(stream), cancellationToken);
        try
        {
            var connected = await ClientConnector.ConnectAsync(config, certificate, settings, channels.ListenPort, channels.SharedTcpEndPoint, logger, cancellationToken);
            ClientLog.Connected(logger, config.Id, connected.Connection.RemoteEndPoint, connected.Connection.Mode);
            return new Client(config, new Identity(certificate, settings, logger), connected, incoming, channels);
        }
        catch
        {
            await channels.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a stream relayed by the coordinator to client <paramref name="to"/> (which may be this client), or to
    /// the coordinator itself when <paramref name="to"/> is <see langword="null"/>. Returns once the coordinator
    /// has accepted it.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.UnknownPeer"/> when no such client is connected, or the connection's failure.</exception>
    public ValueTask<StreamPair> NewProxiedStreamAsync(string? to, CancellationToken cancellationToken = default) =>
        OpenViaCoordinatorAsync(to, _streamIds.Next(), cancellationToken);

    /// <summary>As <see cref="NewProxiedStreamAsync(string?, CancellationToken)"/>, with a stream id of your choosing (below 2^63, never reused).</summary>
    /// <exception cref="ConecException"><see cref="ConecError.StreamIdInUse"/> when the id was used before, before anything is sent.</exception>
    public ValueTask<StreamPair> NewProxiedStreamAsync(string? to, ulong streamId, CancellationToken cancellationToken = default)
    {
        _streamIds.Claim(streamId);
        return OpenViaCoordinatorAsync(to, streamId, cancellationToken);
    }

    /// <summary>
    /// Joins broadcast channel <paramref name="channel"/> (created by the first join): every message sent on the
    /// returned writer reaches every member, this one included, tagged by the coordinator with this client's id.
    /// Read the returned reader with <see cref="TaggedBroadcastInStream"/> or <see cref="TaglessBroadcastInStream"/>.
    /// Returns once the coordinator has counted the member.
    /// </summary>
    public async ValueTask<StreamPair> NewBroadcastAsync(string channel, BroadcastOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        options ??= BroadcastOptions.Default;
        options.Validate();
        var header = new StreamHeader(StreamHeaderKind.Broadcast, channel, _streamIds.Next()) { Policy = (int)options.Policy, Capacity = options.Capacity };
        var (stream, _) = await OpenWithReplyAsync(header, cancellationToken);

        // Received messages carry the sender's tag on top of the payload, so the reader allows for it.
        var pair = new StreamPair(new OutStream(stream, _config.MaxMessageSize), new InStream(stream, _config.MaxMessageSize + BroadcastTagAllowance))
        {
            Kind = StreamKind.Broadcast,
        };
        _memberships.Join(channel, header.StreamId, pair, options);
        _metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", "broadcast"));
        return pair;
    }

    /// <summary>How many members of broadcast <paramref name="channel"/> are writing and reading right now.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.UnknownBroadcast"/> when no such channel exists.</exception>
    public async ValueTask<BroadcastCount> GetBroadcastCountAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var request = new StreamHeader(StreamHeaderKind.BroadcastCount, channel, _streamIds.Next()) { Members = _memberships.StatesIn(channel) };
        TransportStream stream;
        byte[] reply;
        try
        {
            (stream, reply) = await OpenWithReplyAsync(request, cancellationToken);
        }
        catch (ConecException e) when (e.Error == ConecError.UnknownBroadcast)
        {
            _memberships.Forget(channel);
            throw;
        }

        await stream.DisposeAsync();
        var (senders, receivers) = StreamReply.DecodeCount(new ReadOnlySequence<byte>(reply));
        return new BroadcastCount(senders, receivers);
    }

    /// <summary>Closes the coordinator connection (the coordinator unregisters this client at once) and ends <see cref="IncomingStreams"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _completion.Task.ContinueWith(static _ => { }, TaskScheduler.Default);
            return;
        }

        await _shutdown.CancelAsync();
        await _reconnecting;
        var link = _link;
        await CloseAsync(link, ProtocolCodes.CloseNormal, "the client was disposed");
        await link.Loops;
        await _channels.DisposeAsync();
        await _arrivals.WhenAllAsync();
        await link.Control.DisposeAsync();
        await link.Connection.DisposeAsync();
        _incoming.Writer.TryComplete();
        _shutdown.Dispose();
        _completion.TrySetResult();
    }

    /// <summary>The coordinator sends nothing after the hello in this protocol version: anything is a violation, the end is a goodbye.</summary>
    private CoordinatorLink Start(CoordinatorLink link)
    {
        link.Loops = Task.WhenAll(Task.Run(() => ControlLoopAsync(link)), Task.Run(() => AcceptLoopAsync(link)), Task.Run(() => WatchConnectionAsync(link)));
        return link;
    }

    private async Task ControlLoopAsync(CoordinatorLink link)
    {
        try
        {
            var message = await SingleFrame.ReadAsync(link.Control.Input, ProtocolConstants.MaxControlMessageSize, _shutdown.Token);
            if (message is null)
            {
                await CloseAsync(link, ProtocolCodes.CloseNormal, "the coordinator ended the control stream");
                return;
            }

            var decoded = ControlMessage.Decode(new ReadOnlySequence<byte>(message));
            throw new ConecException(ConecError.ProtocolViolation, $"Unexpected control message {decoded.Tag} from the coordinator.");
        }
        catch (ConecException e) when (e.Error is ConecError.ProtocolViolation or ConecError.MessageTooLarge or ConecError.TruncatedMessage)
        {
            ClientLog.CoordinatorViolation(_logger, Id, e.Message);
            await CloseAsync(link, ProtocolCodes.CloseProtocolViolation, e.Message);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The connection ended or the client is being disposed; WatchConnectionAsync reports why.
        }
    }

    private async Task AcceptLoopAsync(CoordinatorLink link)
    {
        try
        {
            while (true)
            {
                var stream = await link.Connection.AcceptStreamAsync(_shutdown.Token);
                _arrivals.Run(() => ReceiveStreamAsync(stream));
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The connection ended or the client is being disposed: the loop's normal end.
        }
    }

    private async Task WatchConnectionAsync(CoordinatorLink link)
    {
        var closed = await link.Connection.Closed;
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }

        var reason = closed is { Error: ConecError.ConnectionClosed, ApplicationErrorCode: { } code }
            ? new ConecException(ConecError.ConnectionClosed, $"The connection to the coordinator {ProtocolCodes.DescribeClose(code)}.", code, closed)
            : closed;
        ClientLog.ConnectionLost(_logger, Id, reason.Message);
        if (_config.Reconnect is { Enabled: true } policy)
        {
            Disconnected?.Invoke(this, new DisconnectedEventArgs(reason));
            _reconnecting = Task.Run(() => ReconnectAsync(policy, link));
            return;
        }

        _incoming.Writer.TryComplete(reason);
        _completion.TrySetException(reason);
    }

    private static async Task CloseAsync(CoordinatorLink link, long code, string reason)
    {
        try
        {
            await link.Connection.CloseAsync(code, reason, CancellationToken.None);
        }
        catch (ConecException)
        {
            // Already closed by the coordinator: that close stands, and WatchConnectionAsync reports it.
        }
    }
}
