using Conec.Coordinator.Broadcast;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator.Cluster;

/// <summary>
/// Broadcasts across nodes (docs/cluster.md, "Broadcasts"): each node records its part of a broadcast in the
/// directory (its channel's life and its members), and a channel's first record opens one link stream to each
/// other node that has a part. Over that stream each side sends what its own members sent, stamped by itself.
/// </summary>
internal sealed partial class ClusterNode
{
    // One record at a time: each writes the counts of the channel as it is when the write starts, so a later
    // write never carries older counts than an earlier one (the directory keeps the last).
    private readonly SemaphoreSlim _recording = new(1, 1);

    /// <summary>
    /// Writes this node's part of broadcast <paramref name="name"/> as the channel is now; on the channel's first
    /// write, links it with every other node's part. A join waits for this before it is accepted, so a count
    /// asked anywhere right after includes it, and messages sent after it reach the new member from every node.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> when the directory cannot be reached.</exception>
    public async Task RecordBroadcastAsync(string name, CancellationToken cancellationToken)
    {
        await _recording.WaitAsync(cancellationToken);
        try
        {
            var channel = _coord!.Broadcasts.Find(name);
            BroadcastPart? part = null;
            if (channel is not null && channel.LocalMembers > 0)
            {
                var (senders, receivers) = channel.Count("", null);
                part = new BroadcastPart(null, channel.Incarnation, senders, receivers, channel.LocalMembers);
            }

            var others = await _directory.RecordBroadcastAsync(name, part, cancellationToken);
            if (channel is not null && part is not null && !channel.Announced)
            {
                // Of two channels recorded at once, the later record sees the earlier: exactly one of them links.
                channel.Announced = true;
                foreach (var other in others)
                {
                    await LinkBroadcastAsync(channel, other, cancellationToken);
                }
            }
        }
        finally
        {
            _recording.Release();
        }
    }

    /// <summary>The members other live nodes have in broadcast <paramref name="name"/>: (senders, receivers, nodes).</summary>
    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> when the directory cannot be reached.</exception>
    public async Task<IReadOnlyList<BroadcastPart>> BroadcastPartsAsync(string name, CancellationToken cancellationToken) =>
        await _directory.BroadcastPartsAsync(name, cancellationToken);

    /// <summary>Every broadcast with a part on some node, by name.</summary>
    public async Task<IReadOnlyList<string>> BroadcastNamesAsync(CancellationToken cancellationToken) =>
        (await _directory.BroadcastNamesAsync(cancellationToken)).All;

    /// <summary>The live nodes of the cluster, this one included.</summary>
    public Task<IReadOnlyList<NodeRecord>> NodesAsync(CancellationToken cancellationToken) => _directory.NodesAsync(cancellationToken);

    /// <summary>The clients of every live node, counted by their claims.</summary>
    public Task<long> ClientCountAsync(CancellationToken cancellationToken) => _directory.ClaimCountAsync(cancellationToken);

    /// <summary>A membership changed without anyone waiting for its record: it is written in the background.</summary>
    private void OnBroadcastChanged(string name)
    {
        if (Volatile.Read(ref _left) == 1)
        {
            return;
        }

        _tasks.Run(async () =>
        {
            try
            {
                await RecordBroadcastAsync(name, _stopping.Token);
            }
            catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
            {
                _reassert = true;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Disposal: leaving drops every part of this node at once.
            }
        });
    }

    /// <summary>After an outage: every channel of this node recorded again, and parts of channels gone since dropped.</summary>
    private async Task ReassertBroadcastsAsync()
    {
        var (_, own) = await _directory.BroadcastNamesAsync(_stopping.Token);
        var names = new HashSet<string>(own, StringComparer.Ordinal);
        names.UnionWith(_coord!.Broadcasts.Channels().Select(c => c.Name));
        foreach (var name in names)
        {
            await RecordBroadcastAsync(name, _stopping.Token);
        }
    }

    /// <summary>Opens the link stream joining <paramref name="channel"/> with another node's part; a node that cannot be reached is logged and left out.</summary>
    private async Task LinkBroadcastAsync(BroadcastChannel channel, BroadcastPart other, CancellationToken cancellationToken)
    {
        var node = other.Node!;
        var header = new LinkMessage(LinkStreamKind.Broadcast, NodeId, channel.Name, (ulong)other.Incarnation) { Incarnation = channel.Incarnation };
        TransportStream stream;
        try
        {
            var (opened, _, refusal) = await OpenOnNodeAsync(node, header, cancellationToken);
            if (refusal is not null)
            {
                // That node's channel ended meanwhile; a new one there records itself later and links to this one.
                ClusterLog.BroadcastLinkSkipped(_logger, channel.Name, node.NodeId, refusal.Message);
                return;
            }

            stream = opened!;
        }
        catch (ConecException e)
        {
            ClusterLog.BroadcastLinkSkipped(_logger, channel.Name, node.NodeId, e.Message);
            return;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ClusterLog.BroadcastLinkSkipped(_logger, channel.Name, node.NodeId, "no answer in time");
            return;
        }

        var member = BroadcastMember.ForLink(node.NodeId, stream, _coordConfig.MaxMessageSize, _coord!.Metrics);
        if (!channel.TryAdd(member))
        {
            stream.AbortWrite(ProtocolCodes.StreamBroadcastEnded);
            await stream.DisposeAsync();
            return;
        }

        var shutdown = _coord.ShutdownToken;
        _tasks.Run(() => RunBroadcastLinkAsync(channel, member, shutdown));
    }

    /// <summary>Serves a broadcast link another node opened: it names this node's channel by its life.</summary>
    private async Task ServeBroadcastLinkAsync(string peer, TransportStream stream, LinkMessage header, CancellationToken shutdown)
    {
        var channel = _coord!.Broadcasts.Find(header.To);
        var member = BroadcastMember.ForLink(peer, stream, _coordConfig.MaxMessageSize, _coord.Metrics);
        if (channel is null || channel.Incarnation != (long)header.StreamId!.Value || !channel.TryAdd(member))
        {
            await CoordSession.RefuseStreamAsync(stream, (ConecError.UnknownBroadcast, $"The broadcast '{header.To}' has no such channel on the node '{NodeId}' any more."));
            return;
        }

        try
        {
            // Accepted only once the link is a member: what this node's members send from now on crosses it.
            await stream.WriteAsync(SingleFrame.Encode(StreamReply.Accepted()), false, shutdown);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            channel.Remove(member);
            await stream.DisposeAsync();
            return;
        }

        await RunBroadcastLinkAsync(channel, member, shutdown);
    }

    private static async Task RunBroadcastLinkAsync(BroadcastChannel channel, BroadcastMember member, CancellationToken shutdown)
    {
        try
        {
            await member.RunAsync(channel, shutdown);
        }
        finally
        {
            channel.Remove(member);
        }
    }
}
