using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator.Cluster;

/// <summary>
/// Links: one connection this node dials to each node it sends streams to (kept while it lives), and the links
/// other nodes dial here, whose streams it serves for its own clients.
/// </summary>
internal sealed partial class ClusterNode
{
    /// <summary>Locations remembered at most; past it the cache starts again, since a stale entry costs only a lookup.</summary>
    private const int MaxLocations = 65_536;

    private readonly TransportListener _links;
    private readonly LinkTls _tls;
    private readonly ConcurrentDictionary<string, Lazy<Task<NodeLink>>> _outbound = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, NodeRecord> _locations = new(StringComparer.OrdinalIgnoreCase);
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>
    /// Opens a link stream to the node that holds <paramref name="clientId"/>, sends <paramref name="header"/> and
    /// returns the stream with the remote node's acceptance. Where the client was found comes from a cache (so
    /// streams between established clients survive a Redis outage); a cached node that no longer holds the client,
    /// or cannot be reached, costs one fresh lookup.
    /// </summary>
    /// <exception cref="ConecException">
    /// The remote node's refusal (<see cref="ConecError.UnknownPeer"/> among others), <see cref="ConecError.UnknownPeer"/>
    /// when no node holds the client, or <see cref="ConecError.ClusterUnavailable"/> when the directory or that node
    /// cannot be reached.
    /// </exception>
    public async Task<(TransportStream Stream, byte[] Reply)> OpenAsync(string clientId, LinkMessage header, CancellationToken cancellationToken)
    {
        for (var fresh = false; ; fresh = true)
        {
            var (node, cached) = await LocateAsync(clientId, fresh, cancellationToken);
            if (node is null)
            {
                throw new ConecException(ConecError.UnknownPeer, $"No client with id '{clientId}' is connected to the cluster.");
            }

            var refused = false;
            try
            {
                var (stream, reply, refusal) = await OpenOnNodeAsync(node, header, cancellationToken);
                if (refusal is not null)
                {
                    refused = true;
                    throw refusal;
                }

                return (stream!, reply);
            }
            catch (ConecException e) when (cached && (!refused || e.Error == ConecError.UnknownPeer))
            {
                // The client moved, or its node went: ask the directory where it is now.
                Forget(clientId);
            }
            catch (ConecException e) when (!refused)
            {
                Forget(clientId);
                throw new ConecException(ConecError.ClusterUnavailable, $"The node '{node.NodeId}' that holds the client '{clientId}' cannot be reached: {e.Message}", e);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ConecException(ConecError.ClusterUnavailable,
                    $"The node '{node.NodeId}' that holds the client '{clientId}' did not answer within {_coordConfig.HelloTimeout.TotalSeconds:0.#} s.");
            }
        }
    }

    /// <summary>
    /// Opens a link stream to <paramref name="node"/>, sends <paramref name="header"/> and reads the answer: the
    /// stream with the acceptance, or the node's refusal (the stream then dropped).
    /// </summary>
    private async Task<(TransportStream? Stream, byte[] Reply, ConecException? Refusal)> OpenOnNodeAsync(NodeRecord node, LinkMessage header,
        CancellationToken cancellationToken)
    {
        var link = await GetLinkAsync(node, cancellationToken);
        var stream = await link.Connection.OpenStreamAsync(cancellationToken);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_coordConfig.HelloTimeout);
            await stream.WriteAsync(SingleFrame.Encode(header.Encode()), false, deadline.Token);
            var reply = await SingleFrame.ReadAsync(stream.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, $"The node '{node.NodeId}' ended the link stream without answering.");
            if (StreamReply.Decode(new ReadOnlySequence<byte>(reply)) is { } refusal)
            {
                stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
                await stream.DisposeAsync();
                return (null, reply, refusal);
            }

            return (stream, reply, null);
        }
        catch
        {
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Drops every link (tests: a link breaking); the next stream to each node dials again.</summary>
    internal async Task BreakLinksAsync()
    {
        foreach (var link in _outbound.Values)
        {
            if (link.IsValueCreated && link.Value.IsCompletedSuccessfully)
            {
                await link.Value.Result.Connection.CloseAsync(ProtocolCodes.CloseNormal, "the link was dropped", CancellationToken.None);
            }
        }
    }

    private async Task<(NodeRecord? Node, bool Cached)> LocateAsync(string clientId, bool fresh, CancellationToken cancellationToken)
    {
        if (!fresh && _locations.TryGetValue(clientId, out var known))
        {
            return (known, true);
        }

        var node = await _directory.LocateAsync(clientId, cancellationToken);
        if (node is null || string.Equals(node.NodeId, NodeId, StringComparison.OrdinalIgnoreCase))
        {
            // Held here means held by a session that is going or still being admitted: not connected.
            Forget(clientId);
            return (null, false);
        }

        if (_locations.Count >= MaxLocations)
        {
            _locations.Clear();
        }

        _locations[clientId] = node;
        return (node, false);
    }

    private void Forget(string clientId) => _locations.TryRemove(clientId, out _);

    private void OnNodeLeft(string nodeId)
    {
        foreach (var (clientId, node) in _locations)
        {
            if (string.Equals(node.NodeId, nodeId, StringComparison.OrdinalIgnoreCase))
            {
                _locations.TryRemove(new KeyValuePair<string, NodeRecord>(clientId, node));
            }
        }
    }

    private async Task<NodeLink> GetLinkAsync(NodeRecord node, CancellationToken cancellationToken)
    {
        while (true)
        {
            var entry = _outbound.GetOrAdd(node.NodeId, _ => new Lazy<Task<NodeLink>>(() => DialAsync(node)));
            NodeLink link;
            try
            {
                link = await entry.Value.WaitAsync(cancellationToken);
            }
            catch (ConecException)
            {
                // A failed dial is not kept: the next stream dials again.
                _outbound.TryRemove(new KeyValuePair<string, Lazy<Task<NodeLink>>>(node.NodeId, entry));
                throw;
            }

            if (!link.Connection.Closed.IsCompleted && link.Node == node)
            {
                return link;
            }

            // Closed, or the node came back elsewhere (a new port after a restart): dial again.
            _outbound.TryRemove(new KeyValuePair<string, Lazy<Task<NodeLink>>>(node.NodeId, entry));
        }
    }

    /// <summary>Connects to <paramref name="node"/>'s links with this node's certificate and says the link hello.</summary>
    private async Task<NodeLink> DialAsync(NodeRecord node)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_coordConfig.HelloTimeout);
        try
        {
            var remote = await ResolveAsync(node, deadline.Token);
            var connection = await TransportFactory.ConnectAsync(_coordConfig.Transport, remote, null, _tls.Client(node.NodeId),
                LinkSettings(_coordConfig, dialling: true), _logger, deadline.Token);
            try
            {
                var control = await connection.OpenStreamAsync(deadline.Token);
                await control.WriteAsync(SingleFrame.Encode(LinkMessage.EncodeHello(NodeId, ProtocolConstants.Version)), false, deadline.Token);
                var bytes = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                    ?? throw new ConecException(ConecError.ProtocolViolation, $"The node '{node.NodeId}' ended the link without answering its hello.");
                var answer = ControlMessage.Decode(new ReadOnlySequence<byte>(bytes));
                if (answer.Tag != ControlTag.HelloAccepted)
                {
                    var error = answer.Tag == ControlTag.HelloRefused && Enum.IsDefined((ConecError)answer.Number) ? (ConecError)answer.Number : ConecError.ProtocolViolation;
                    throw new ConecException(error, $"The node '{node.NodeId}' refused the link: {answer.Text}");
                }

                var link = new NodeLink(node, connection, control);
                ClusterLog.LinkUp(_logger, node.NodeId, remote, connection.Mode);
                _tasks.Run(() => WatchLinkAsync(link));
                return link;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            throw new ConecException(ConecError.Timeout, $"Linking to the node '{node.NodeId}' did not finish within {_coordConfig.HelloTimeout.TotalSeconds:0.#} s.");
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(NodeRecord node, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(node.LinkHost, out var address))
        {
            return new IPEndPoint(address, node.LinkPort);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(node.LinkHost, cancellationToken);
            return addresses.Length > 0
                ? new IPEndPoint(addresses[0], node.LinkPort)
                : throw new ConecException(ConecError.ConnectionRefused, $"The node host '{node.LinkHost}' has no address.");
        }
        catch (SocketException e)
        {
            throw new ConecException(ConecError.ConnectionRefused, $"The node host '{node.LinkHost}' could not be resolved: {e.Message}", e);
        }
    }

    /// <summary>Forgets a link when it ends, so that the next stream to its node dials again.</summary>
    private async Task WatchLinkAsync(NodeLink link)
    {
        var closed = await link.Connection.Closed;
        if (_outbound.TryGetValue(link.Node.NodeId, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully && entry.Value.Result == link)
        {
            _outbound.TryRemove(new KeyValuePair<string, Lazy<Task<NodeLink>>>(link.Node.NodeId, entry));
        }

        ClusterLog.LinkDown(_logger, link.Node.NodeId, closed.Message);
        await link.Control.DisposeAsync();
        await link.Connection.DisposeAsync();
    }

    private async Task CloseLinksAsync()
    {
        foreach (var entry in _outbound.Values)
        {
            if (entry.IsValueCreated)
            {
                try
                {
                    var link = await entry.Value;
                    await link.Connection.CloseAsync(ProtocolCodes.CloseShutdown, "the node is shutting down", CancellationToken.None);
                }
                catch (Exception e) when (e is ConecException or OperationCanceledException)
                {
                    // The dial failed or the link is already closed: nothing is left to close.
                }
            }
        }
    }

    /// <summary>One link this node dialled: its connection and control stream (whose end is the goodbye).</summary>
    private sealed record NodeLink(NodeRecord Node, TransportConnection Connection, TransportStream Control);
}
