namespace Conec;

/// <summary>
/// Reads a stream in the background as fast as messages arrive, so the sender is never throttled by this reader,
/// and keeps at most <see cref="Capacity"/> of them: when full, the oldest is dropped. Each message tells how many
/// were dropped just before it; a failure of the underlying stream is thrown once the kept messages are read.
/// </summary>
public sealed class NonblockingInStream : IMessageSource, IAsyncEnumerable<ReceivedMessage>
{
    private readonly IMessageSource _inner;
    private readonly Queue<ReceivedMessage> _kept = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drain;
    private TaskCompletionSource? _waiter;
    private long _droppedAtHead;
    private bool _ended;
    private ConecException? _failure;

    /// <summary>Starts draining <paramref name="inner"/> into a ring of <paramref name="capacity"/> messages.</summary>
    public NonblockingInStream(IMessageSource inner, int capacity)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _inner = inner;
        Capacity = capacity;
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>The most messages kept while the reader is behind.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Completes when the background reader has stopped: the wrapped stream ended or failed (the failure is thrown
    /// by <see cref="ReceiveAsync"/> after the kept messages), or this adapter was disposed. Never faults.
    /// </summary>
    public Task Completion => _drain;

    /// <inheritdoc/>
    public async ValueTask<ReceivedMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task arrival;
            lock (_lock)
            {
                if (_kept.TryDequeue(out var message))
                {
                    var lost = message.LostBefore + _droppedAtHead;
                    _droppedAtHead = 0;
                    return message with { LostBefore = lost };
                }

                if (_failure is not null)
                {
                    throw _failure;
                }

                if (_ended)
                {
                    return null;
                }

                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                arrival = _waiter.Task;
            }

            await arrival.WaitAsync(cancellationToken);
        }
    }

    /// <inheritdoc/>
    public IAsyncEnumerator<ReceivedMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        this.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <summary>Stops the background reader and disposes the wrapped stream.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _drain;
        await _inner.DisposeAsync();
        _stop.Dispose();
    }

    private async Task DrainAsync()
    {
        try
        {
            while (await _inner.ReceiveAsync(_stop.Token) is { } message)
            {
                lock (_lock)
                {
                    if (_kept.Count == Capacity)
                    {
                        // The dropped message and the losses before it all fall just before the new head.
                        _droppedAtHead += _kept.Dequeue().LostBefore + 1;
                    }

                    _kept.Enqueue(message);
                    Wake();
                }
            }

            Finish(null);
        }
        catch (ConecException e)
        {
            Finish(e);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            Finish(null);
        }
    }

    private void Finish(ConecException? failure)
    {
        lock (_lock)
        {
            _ended = true;
            _failure = failure;
            Wake();
        }
    }

    private void Wake()
    {
        _waiter?.TrySetResult();
        _waiter = null;
    }
}
