namespace Conec.Tests.Typed;

/// <summary>A contract whose streamed result can outrun its reader: what the RPC back-pressure tests stall.</summary>
[ConecStream]
public interface IFlood
{
    IAsyncEnumerable<byte[]> Flood(int count, int size, CancellationToken cancellationToken);

    ValueTask<int> Ping(int value);
}

/// <summary>Produces numbered items and counts how many the server has produced so far.</summary>
internal sealed class FloodService : IFlood
{
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _produced;

    public int Produced => Volatile.Read(ref _produced);

    /// <summary>Completes once the server has produced at least <paramref name="count"/> items.</summary>
    public Task ProducedAsync(int count)
    {
        lock (_waiters)
        {
            if (_produced >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task;
        }
    }

    public async IAsyncEnumerable<byte[]> Flood(int count, int size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (_waiters)
            {
                _produced++;
                foreach (var waiter in _waiters.Where(w => w.Count <= _produced))
                {
                    waiter.Reached.TrySetResult();
                }
            }

            yield return Coordination.Messages.Numbered(i, size);
        }

        await Task.CompletedTask;
    }

    public ValueTask<int> Ping(int value) => ValueTask.FromResult(value);
}
