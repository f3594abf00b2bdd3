using System.Runtime.CompilerServices;
using Conec.Tests.Coordination;

namespace Conec.Tests.Typed;

/// <summary>A contract that streams both ways: what the client-streaming, duplex, deadline and filter tests call.</summary>
[ConecStream]
public interface IPipeline
{
    ValueTask<long> Sum(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken);

    ValueTask Collect(string tag, IAsyncEnumerable<byte[]> chunks, CancellationToken cancellationToken);

    IAsyncEnumerable<int> Twice(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken);

    ValueTask<int> TakeTwo(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken);

    ValueTask<int> Slow(int milliseconds, CancellationToken cancellationToken);

    ValueTask<string?> Whoami();
}

/// <summary>Counts something and lets a test wait until the count reaches a number, without polling.</summary>
internal sealed class Progress
{
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add()
    {
        lock (_waiters)
        {
            _count++;
            foreach (var waiter in _waiters.Where(w => w.Count <= _count).ToArray())
            {
                _waiters.Remove(waiter);
                waiter.Reached.TrySetResult();
            }
        }
    }

    public Task ReachedAsync(int count)
    {
        lock (_waiters)
        {
            if (_count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task;
        }
    }
}

/// <summary>An <see cref="IPipeline"/> that records what it read, how its calls ended and what context it saw.</summary>
internal sealed class PipelineService : IPipeline
{
    public Progress ChunksRead { get; } = new();

    /// <summary>Collect reads one chunk, then waits for this before reading the rest.</summary>
    public TaskCompletionSource ReadTheRest { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<RpcCallContext?> SlowContext { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TimeSpan> SlowTimeLeft { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Handled;

    public async ValueTask<long> Sum(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Handled);
        long sum = 0;
        try
        {
            await foreach (var n in numbers.WithCancellation(cancellationToken))
            {
                sum += n;
            }
        }
        catch (OperationCanceledException)
        {
            HandlerCancelled.TrySetResult();
            throw;
        }

        return sum;
    }

    public async ValueTask Collect(string tag, IAsyncEnumerable<byte[]> chunks, CancellationToken cancellationToken)
    {
        await foreach (var chunk in chunks.WithCancellation(cancellationToken))
        {
            Assert.Equal(ChunksRead.Count, Messages.SequenceOf(chunk));
            ChunksRead.Add();
            if (ChunksRead.Count == 1)
            {
                await ReadTheRest.Task.WaitAsync(cancellationToken);
            }
        }
    }

    public async IAsyncEnumerable<int> Twice(IAsyncEnumerable<int> numbers, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Handled);
        try
        {
            await foreach (var n in numbers.WithCancellation(cancellationToken))
            {
                yield return n >= 0 ? n * 2 : throw new InvalidOperationException($"{n} is negative");
            }
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested)
            {
                HandlerCancelled.TrySetResult();
            }
        }
    }

    /// <summary>TakeTwo waits for this after it stops reading, so a test sees the caller stop before the call ends.</summary>
    public TaskCompletionSource AnswerTakeTwo { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<int> TakeTwo(IAsyncEnumerable<int> numbers, CancellationToken cancellationToken)
    {
        var taken = new List<int>();
        await foreach (var n in numbers)
        {
            taken.Add(n);
            if (taken.Count == 2)
            {
                break;
            }
        }

        await AnswerTakeTwo.Task.WaitAsync(cancellationToken);
        return taken.Sum();
    }

    public async ValueTask<int> Slow(int milliseconds, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Handled);
        var context = RpcCallContext.Current;
        SlowContext.TrySetResult(context);
        if (context?.Deadline is { } deadline)
        {
            SlowTimeLeft.TrySetResult(deadline - DateTimeOffset.UtcNow);
        }

        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            HandlerCancelled.TrySetResult();
            throw;
        }

        return milliseconds;
    }

    public ValueTask<string?> Whoami()
    {
        Interlocked.Increment(ref Handled);
        return ValueTask.FromResult(RpcCallContext.Current?.Peer);
    }
}

/// <summary>The caller's side of a streamed argument: items it produced, and whether its enumeration was stopped.</summary>
internal sealed class Source
{
    public Progress Produced { get; } = new();

    public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Yields <paramref name="count"/> items made by <paramref name="make"/> (forever when null), then ends.</summary>
    public async IAsyncEnumerable<T> Items<T>(Func<int, T> make, int? count = null, int? failAt = null)
    {
        try
        {
            for (var i = 0; count is null || i < count; i++)
            {
                if (i == failAt)
                {
                    throw new InvalidOperationException("the source broke");
                }

                yield return make(i);
                Produced.Add();
                await Task.Yield();
            }
        }
        finally
        {
            Stopped.TrySetResult();
        }
    }
}
