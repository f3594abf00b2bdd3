namespace Conec.Tests;

/// <summary>Bounds for every await in the tests, tied to the test's own cancellation.</summary>
internal static class Timeouts
{
    /// <summary>Generous enough for a loaded 2-core CI machine, short enough that a hang fails fast.</summary>
    public static readonly TimeSpan Operation = TimeSpan.FromSeconds(20);

    /// <summary>A token that cancels when the test is cancelled or <paramref name="limit"/> passes.</summary>
    public static CancellationToken Token(TimeSpan? limit = null)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        source.CancelAfter(limit ?? Operation);
        return source.Token;
    }

    /// <summary>Whether <paramref name="task"/> finishes within <paramref name="window"/>: used to observe that something stays blocked.</summary>
    public static async Task<bool> CompletesWithin(Task task, TimeSpan window)
    {
        var finished = await Task.WhenAny(task, Task.Delay(window, TestContext.Current.CancellationToken));
        return finished == task;
    }
}
