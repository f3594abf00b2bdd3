namespace Conec.Concurrency;

/// <summary>
/// The background tasks one owner started (a connection's stream handlers, a coordinator's sessions), so that
/// disposal can wait for all of them. A task that fails despite handling its own errors is reported, not lost.
/// </summary>
internal sealed class TaskGroup(Action<Exception> onUnexpectedFailure)
{
    private readonly HashSet<Task> _running = [];

    public int Count
    {
        get
        {
            lock (_running)
            {
                return _running.Count;
            }
        }
    }

    public void Run(Func<Task> work)
    {
        var task = Task.Run(work);
        lock (_running)
        {
            _running.Add(task);
        }

        task.ContinueWith(Finished, TaskScheduler.Default);
    }

    /// <summary>Completes when every task started so far has finished.</summary>
    public Task WhenAllAsync()
    {
        Task[] snapshot;
        lock (_running)
        {
            snapshot = [.. _running];
        }

        return Task.WhenAll(snapshot).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private void Finished(Task task)
    {
        lock (_running)
        {
            _running.Remove(task);
        }

        if (task.Exception is { } failure)
        {
            onUnexpectedFailure(failure.GetBaseException());
        }
    }
}
