namespace Conec;

/// <summary>
/// The bytes a caller lets one streamed call send ahead of its reading. An item goes out while any credit is left,
/// so one item larger than the whole window still moves; the caller then holds at most the window plus one item.
/// </summary>
internal sealed class StreamedResultCredit(long window)
{
    private readonly object _sync = new();
    private long _available = window;
    private TaskCompletionSource? _granted;

    /// <summary>Waits until credit is left, then takes <paramref name="size"/> bytes of it.</summary>
    public async ValueTask TakeAsync(int size, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                if (_available > 0)
                {
                    _available -= size;
                    return;
                }

                _granted ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _granted.Task;
            }

            await wait.WaitAsync(cancellationToken);
        }
    }

    public void Grant(long bytes)
    {
        TaskCompletionSource? granted;
        lock (_sync)
        {
            _available += bytes;
            granted = _granted;
            _granted = null;
        }

        granted?.TrySetResult();
    }
}
