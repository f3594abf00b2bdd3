using System.Threading.Channels;
using Conec.Concurrency;
using Conec.Protocol;

namespace Conec.Coordinator.Broadcast;

/// <summary>
/// One named broadcast channel on the coordinator. Messages from every member pass through one fan-in queue and
/// one fan-out loop, so every receiver sees the same order; each receiver has its own bounded queue and policy, so a
/// slow receiver under <see cref="SlowReceiverPolicy.DropOldest"/> or <see cref="SlowReceiverPolicy.Disconnect"/>
/// never slows anyone else. The channel ends when no member writes any more (receivers read the end), or when no
/// member reads any more (writers are stopped).
/// </summary>
internal sealed partial class BroadcastChannel
{
    /// <summary>Messages accepted from senders but not yet fanned out; bounds what senders can queue ahead.</summary>
    // The fan-in is bounded in bytes as well as frames: many small messages may wait (so a fan-out round has plenty to
    // take), but never more than about 1 MiB, whatever the message size (an empty fan-in takes one message of any size).
    private const int FanInCapacity = 1024;
    private const long FanInBytes = 1 << 20;

    // One fan-out round takes at most this much of what senders published: enough to amortise the per-receiver work.
    // It is also never more than the smallest member's queue, so a round never by itself overflows a receiver that
    // keeps up (which would cost a DropOldest receiver messages, or a Disconnect receiver its membership).
    private const int FanOutBatchFrames = 256;
    private const int FanOutBatchBytes = 256 * 1024;

    private readonly BroadcastHub _hub;
    private readonly Lock _lock = new();
    private readonly List<BroadcastMember> _members = [];
    private readonly Channel<SharedFrame> _fanIn = Channel.CreateBounded<SharedFrame>(
        new BoundedChannelOptions(FanInCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly CancellationToken _shutdown;
    private BroadcastMember[]? _targets; // the members as the fan-out loop sees them; reset under _lock on every change
    private BroadcastMember[] _links = []; // the links among the members, for senders waiting for their room
    private bool _localWritersDone; // every member of this node stopped writing: new joins start a new channel
    private int _batchLimit = 1; // frames per fan-out round for the current _targets
    private long _fanInHeld; // bytes of the frames waiting in _fanIn
    private readonly AsyncSignal _fanInDrained = new();
    private Task? _fanOut;
    private bool _closing;

    public BroadcastChannel(BroadcastHub hub, string name, CancellationToken shutdown)
    {
        _hub = hub;
        Name = name;
        _shutdown = shutdown;
    }

    public string Name { get; }

    /// <summary>Adds a member; false if the channel is already ending (the caller then makes a new one).</summary>
    public bool TryAdd(BroadcastMember member)
    {
        lock (_lock)
        {
            // A channel whose writers here are all done has told the other nodes so; a new member starts a new one.
            if (_closing || (_localWritersDone && !member.IsLink))
            {
                return false;
            }

            _members.Add(member);
            _targets = null;
            if (member.IsLink)
            {
                _links = [.. _members.Where(m => m.IsLink)];
                if (_localWritersDone)
                {
                    member.Queue.Complete();
                }
            }

            _fanOut ??= Task.Run(FanOutAsync);
            return true;
        }
    }

    public void Remove(BroadcastMember member)
    {
        bool ended;
        lock (_lock)
        {
            _members.Remove(member);
            _targets = null;
            _links = [.. _members.Where(m => m.IsLink)];

            // The channel lives on a node while a member of that node does; links alone keep nothing alive.
            ended = !_members.Exists(m => !m.IsLink) && BeginClosingLocked(receiversGone: false);
            if (ended)
            {
                foreach (var link in _links)
                {
                    link.StopInput(ProtocolCodes.StreamBroadcastEnded);
                }
            }
        }

        EndIf(ended);
        if (!member.IsLink)
        {
            _hub.OnChanged(Name);
        }
    }

    /// <summary>
    /// (members whose writer is open, members whose reader is open), exact at the moment of asking; the asker's own
    /// memberships also count as closed when the asker says so (its leave may still be in flight on QUIC).
    /// </summary>
    public (int Senders, int Receivers) Count(string asker, IReadOnlyList<Protocol.MemberState>? own)
    {
        lock (_lock)
        {
            var senders = 0;
            var receivers = 0;
            foreach (var member in _members)
            {
                if (member.IsLink)
                {
                    continue;
                }

                var said = own is not null && string.Equals(member.ClientId, asker, StringComparison.OrdinalIgnoreCase)
                    ? own.FirstOrDefault(m => m.StreamId == member.StreamId)
                    : (Protocol.MemberState?)null;
                senders += member.CountsAsSender && (said?.Writing ?? true) ? 1 : 0;
                receivers += member.CountsAsReceiver && (said?.Reading ?? true) ? 1 : 0;
            }

            return (senders, receivers);
        }
    }

    /// <summary>Queues a sender's frame for fan-out, waiting while the fan-in is full; false once the channel is ending.</summary>
    public async ValueTask<bool> PublishAsync(SharedFrame frame, CancellationToken cancellationToken)
    {
        var size = frame.Memory.Length;
        while (true)
        {
            var drained = _fanInDrained.Current;
            var held = Volatile.Read(ref _fanInHeld);
            if (held == 0 || held + size <= FanInBytes)
            {
                break;
            }

            if (Volatile.Read(ref _closing))
            {
                return false;
            }

            await drained.WaitAsync(cancellationToken);
        }

        Interlocked.Add(ref _fanInHeld, size);
        var queued = false;
        try
        {
            await _fanIn.Writer.WriteAsync(frame, cancellationToken);
            queued = true;
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
        finally
        {
            if (!queued)
            {
                Interlocked.Add(ref _fanInHeld, -size);
            }
        }
    }

    /// <summary>A member's writer or reader ended: the channel ends when no writer or no reader is left.</summary>
    public void OnMemberChanged()
    {
        var ended = false;
        var finishLinks = false;
        lock (_lock)
        {
            if (!_closing && !_localWritersDone && _members.Exists(m => !m.IsLink) && _members.TrueForAll(m => m.IsLink || !m.InputOpen))
            {
                _localWritersDone = true;
                finishLinks = _links.Length > 0;
            }

            if (!_closing && _members.Count > 0)
            {
                if (_members.TrueForAll(m => !m.InputOpen))
                {
                    ended = BeginClosingLocked(receiversGone: false);
                }
                else if (_members.TrueForAll(m => !m.OutputOpen))
                {
                    ended = BeginClosingLocked(receiversGone: true);
                }
            }
        }

        EndIf(ended);
        if (finishLinks && !ended)
        {
            // Behind whatever this node's senders already published, so the links carry all of it before their end.
            _ = FinishLinksAsync();
        }

        _hub.OnChanged(Name);
    }

    /// <summary>Unregisters outside the channel's lock: the hub's lock is taken before a channel's, never after.</summary>
    private void EndIf(bool ended)
    {
        if (ended)
        {
            _hub.Remove(this);
        }
    }

    /// <summary>Marks the channel as ending; true if this call did (the caller then unregisters it).</summary>
    private bool BeginClosingLocked(bool receiversGone)
    {
        if (_closing)
        {
            return false;
        }

        _closing = true;
        _fanIn.Writer.TryComplete();
        _fanInDrained.Pulse(); // publishers waiting for room see the end
        if (_fanOut is null)
        {
            CompleteQueuesLocked();
        }

        if (receiversGone)
        {
            foreach (var member in _members)
            {
                member.StopInput(ProtocolCodes.StreamBroadcastEnded);
            }
        }

        return true;
    }

    private async Task FanOutAsync()
    {
        var batch = new List<SharedFrame>(FanOutBatchFrames);
        try
        {
            var input = _fanIn.Reader;
            while (await input.WaitToReadAsync(_shutdown))
            {
                // Whatever the senders have already published goes out together: each receiver's queue is locked and
                // its writer woken once per batch rather than once per message, which is what 50 receivers of small
                // messages pay for most.
                batch.Clear();
                var bytes = 0;
                var targets = Volatile.Read(ref _targets) ?? Targets(); // copied once per membership change
                var limit = Volatile.Read(ref _batchLimit);
                var localEnd = false;
                while (batch.Count < limit && bytes < FanOutBatchBytes && input.TryRead(out var next))
                {
                    if (ReferenceEquals(next, LocalEnd))
                    {
                        localEnd = true;
                        break;
                    }

                    batch.Add(next);
                    bytes += next.Memory.Length;
                }

                Interlocked.Add(ref _fanInHeld, -bytes);
                _fanInDrained.Pulse();

                if (batch.Count > 0)
                {
                    await FanOutBatchAsync(targets, batch);
                }

                if (localEnd)
                {
                    foreach (var link in Volatile.Read(ref _links))
                    {
                        link.Queue.Complete();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The coordinator is shutting down: receivers are reset, not ended, and every connection closes next.
            lock (_lock)
            {
                foreach (var member in _members)
                {
                    member.Abandon();
                }
            }

            return;
        }

        lock (_lock)
        {
            CompleteQueuesLocked();
        }
    }

    private async ValueTask FanOutBatchAsync(BroadcastMember[] targets, List<SharedFrame> batch)
    {
        _hub.Metrics.BroadcastMessages.Add(batch.Count);
        foreach (var frame in batch)
        {
            frame.AddReferences(targets.Length);
        }

        List<SharedFrame>? local = null;
        foreach (var target in targets)
        {
            var taken = 0;
            if (target.IsLink)
            {
                // A link carries what this node's members sent, and never waits: its senders wait for its room instead.
                local ??= batch.TrueForAll(f => !f.Remote) ? batch : batch.FindAll(f => !f.Remote);
                var queued = local.Count > 0 && target.OutputOpen && target.Queue.EnqueueUnbounded(local);
                foreach (var frame in batch)
                {
                    if (frame.Remote || !queued)
                    {
                        frame.Release();
                    }
                }

                continue;
            }

            if (target.OutputOpen)
            {
                MemberQueue.Outcome outcome;
                (outcome, taken) = await target.Queue.EnqueueAsync(batch, _shutdown);
                if (outcome == MemberQueue.Outcome.Full)
                {
                    _hub.Metrics.BroadcastDrops.Add(batch.Count - taken, new KeyValuePair<string, object?>("reason", "disconnect"));
                    target.Disconnect(this);
                }
            }

            for (var i = taken; i < batch.Count; i++)
            {
                batch[i].Release();
            }
        }

        foreach (var frame in batch)
        {
            frame.Release();
        }
    }

    private BroadcastMember[] Targets()
    {
        lock (_lock)
        {
            if (_targets is null)
            {
                _targets = [.. _members];
                var local = _targets.Where(m => !m.IsLink).ToArray();
                _batchLimit = Math.Min(FanOutBatchFrames, local.Length == 0 ? FanOutBatchFrames : local.Min(m => m.Queue.Capacity));
            }

            return _targets;
        }
    }

    /// <summary>Receivers get what was queued for them, then the end of the stream.</summary>
    private void CompleteQueuesLocked()
    {
        foreach (var member in _members)
        {
            member.Queue.Complete();
        }
    }
}
