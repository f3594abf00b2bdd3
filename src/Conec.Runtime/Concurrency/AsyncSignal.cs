namespace Conec.Concurrency;

/// <summary>
/// A level-less wake-up: waiters take <see cref="Current"/> before checking their condition, and
/// <see cref="Pulse"/> completes that task, so no wake-up between check and wait is lost.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Current => Volatile.Read(ref _current).Task;

    public void Pulse() =>
        Interlocked.Exchange(ref _current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
