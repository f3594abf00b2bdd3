using System.Threading.Channels;

namespace Conec.Coordinator.Broadcast;

/// <summary>
/// The channel's part in a cluster (docs/cluster.md, "Broadcasts"): its life as the directory names it, and its
/// links to the other nodes' parts, which carry what this node's members send and which its senders wait for.
/// </summary>
internal sealed partial class BroadcastChannel
{
    /// <summary>
    /// Put into the fan-in once this node's members have all stopped writing: the fan-out, having sent on all that came
    /// before it, finishes the links' side (other nodes then know this node sends no more).
    /// </summary>
    private static readonly SharedFrame LocalEnd = SharedFrame.Rent(0);

    /// <summary>This channel's life on this node, as the cluster's directory records it: a link names the life it joins.</summary>
    public long Incarnation { get; } = Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>Set by the cluster once this channel's first record is written and its links to the other nodes are open.</summary>
    public bool Announced { get; set; }

    /// <summary>Members of this node (not links), for the coordinator's view and the directory's record.</summary>
    public int LocalMembers
    {
        get
        {
            lock (_lock)
            {
                return _members.Count(m => !m.IsLink);
            }
        }
    }

    /// <summary>
    /// A sender of this node waits until every open link has room (each is bounded like a Wait receiver): a node
    /// whose members are slow slows the senders, not the fan-out that serves this node's other receivers.
    /// </summary>
    public async ValueTask WaitForLinksAsync(CancellationToken cancellationToken)
    {
        foreach (var link in Volatile.Read(ref _links))
        {
            if (link.OutputOpen)
            {
                await link.Queue.WaitForRoomAsync(cancellationToken);
            }
        }
    }

    private async Task FinishLinksAsync()
    {
        try
        {
            await _fanIn.Writer.WriteAsync(LocalEnd, _shutdown);
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            // The channel ended or the coordinator stops: the fan-out's end completes the links' queues anyway.
        }
    }
}
