namespace Conec.Coordinator.Broadcast;

/// <summary>
/// The frames waiting for one broadcast receiver, bounded by its capacity and governed by its
/// <see cref="SlowReceiverPolicy"/>. One producer (the channel's fan-out) and one consumer (the receiver's writer).
/// Drops are counted under the same lock as dequeues, so each loss notice lands exactly where the losses were.
/// </summary>
internal sealed class MemberQueue(SlowReceiverPolicy policy, int capacity, System.Diagnostics.Metrics.Counter<long> drops)
{
    private readonly Lock _lock = new();

    /// <summary>How many frames the queue holds at most.</summary>
    public int Capacity => capacity;

    private readonly Queue<SharedFrame> _frames = new();
    // Under Wait the queue is also bounded in bytes, so a stalled receiver of large messages holds a few MiB on the
    // coordinator rather than Capacity whole messages; an empty queue takes one message of any size.
    private const long WaitQueueBytes = 4 << 20;

    private long _bytes;
    private long _dropped;
    private bool _completed;
    private TaskCompletionSource? _itemWaiter;
    private TaskCompletionSource? _spaceWaiter;

    /// <summary>What <see cref="EnqueueAsync"/> did with a frame.</summary>
    public enum Outcome
    {
        Queued,
        Full,
        Closed,
    }

    /// <summary>
    /// Queues <paramref name="frames"/> in order, under one lock and with one wake-up of the writer for all of them
    /// (the caller's reference to each frame passes to the queue when it is taken). Waits for space under
    /// <see cref="SlowReceiverPolicy.Wait"/>; stops with <see cref="Outcome.Full"/> under
    /// <see cref="SlowReceiverPolicy.Disconnect"/> when full; never waits under <see cref="SlowReceiverPolicy.DropOldest"/>.
    /// <c>Taken</c> says how many frames the queue took; the caller keeps (and releases) the rest.
    /// </summary>
    public async ValueTask<(Outcome Outcome, int Taken)> EnqueueAsync(IReadOnlyList<SharedFrame> frames, CancellationToken cancellationToken)
    {
        var taken = 0;
        while (true)
        {
            Task space;
            lock (_lock)
            {
                if (_completed)
                {
                    return (Outcome.Closed, taken);
                }

                var queuedBefore = taken;
                for (; taken < frames.Count; taken++)
                {
                    var size = frames[taken].Memory.Length;
                    if (policy == SlowReceiverPolicy.Wait && _bytes > 0 && _bytes + size > WaitQueueBytes)
                    {
                        break;
                    }

                    if (_frames.Count >= capacity)
                    {
                        if (policy != SlowReceiverPolicy.DropOldest)
                        {
                            break;
                        }

                        var dropped = _frames.Dequeue();
                        _bytes -= dropped.Memory.Length;
                        dropped.Release();
                        _dropped++;
                        drops.Add(1, new KeyValuePair<string, object?>("reason", "drop_oldest"));
                    }

                    _frames.Enqueue(frames[taken]);
                    _bytes += size;
                }

                if (taken > queuedBefore)
                {
                    Wake(ref _itemWaiter);
                }

                if (taken == frames.Count)
                {
                    return (Outcome.Queued, taken);
                }

                if (policy == SlowReceiverPolicy.Disconnect)
                {
                    return (Outcome.Full, taken);
                }

                _spaceWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _spaceWaiter.Task;
            }

            await space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Queues <paramref name="frames"/> without waiting or dropping, past the capacity if need be: a link's queue,
    /// whose bound is kept by the senders waiting in <see cref="WaitForRoomAsync"/> before they publish, so that the
    /// fan-out itself never waits for another node. False once the queue is completed.
    /// </summary>
    public bool EnqueueUnbounded(IReadOnlyList<SharedFrame> frames)
    {
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            foreach (var frame in frames)
            {
                _frames.Enqueue(frame);
                _bytes += frame.Memory.Length;
            }

            Wake(ref _itemWaiter);
            return true;
        }
    }

    /// <summary>Waits while the queue holds its capacity in frames or its Wait bound in bytes (any number of waiters).</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task space;
            lock (_lock)
            {
                if (_completed || (_frames.Count < capacity && _bytes < WaitQueueBytes))
                {
                    return;
                }

                _spaceWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _spaceWaiter.Task;
            }

            await space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The next frame and how many frames were dropped just before it, or a <see langword="null"/> frame once the
    /// queue is completed and empty.
    /// </summary>
    public async ValueTask<(SharedFrame? Frame, long Lost)> DequeueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task item;
            lock (_lock)
            {
                if (_frames.TryDequeue(out var frame))
                {
                    _bytes -= frame.Memory.Length;
                    var lost = _dropped;
                    _dropped = 0;
                    Wake(ref _spaceWaiter);
                    return (frame, lost);
                }

                if (_completed)
                {
                    return (null, 0);
                }

                _itemWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                item = _itemWaiter.Task;
            }

            await item.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Takes the next frame if one is queued, without waiting (the writer gathers a batch this way).</summary>
    public bool TryDequeue(out SharedFrame frame, out long lost)
    {
        lock (_lock)
        {
            if (_frames.TryDequeue(out frame!))
            {
                _bytes -= frame.Memory.Length;
                lost = _dropped;
                _dropped = 0;
                Wake(ref _spaceWaiter);
                return true;
            }

            lost = 0;
            return false;
        }
    }

    /// <summary>No more frames will be queued; the consumer still gets those already queued.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
            Wake(ref _itemWaiter);
            Wake(ref _spaceWaiter);
        }
    }

    /// <summary>Completes and releases everything still queued (the receiver is gone).</summary>
    public void Discard()
    {
        lock (_lock)
        {
            _completed = true;
            while (_frames.TryDequeue(out var frame))
            {
                frame.Release();
            }

            _bytes = 0;

            Wake(ref _itemWaiter);
            Wake(ref _spaceWaiter);
        }
    }

    private static void Wake(ref TaskCompletionSource? waiter)
    {
        waiter?.TrySetResult();
        waiter = null;
    }
}
