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

    /// <summary>
    /// How much earlier than its timeout a timer may appear to fire against a <see cref="System.Diagnostics.Stopwatch"/>
    /// started before the timer was: the timers read coarser clocks (<see cref="Environment.TickCount64"/>).
    /// </summary>
    public static readonly TimeSpan TimerTolerance = TimeSpan.FromMilliseconds(50);

    /// <summary>How much later than its timeout a timer may fire on a loaded machine (ticks, scheduling, QUIC's PTO).</summary>
    public static readonly TimeSpan TimerLateness = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Asserts that something a timeout should cause happened after <paramref name="elapsed"/> on a clock started
    /// before the timer was: not before <paramref name="timeout"/> (less <see cref="TimerTolerance"/>), and not
    /// more than <see cref="TimerLateness"/> after it.
    /// </summary>
    public static void AssertAfterTimeout(TimeSpan elapsed, TimeSpan timeout, string what)
    {
        Assert.True(elapsed >= timeout - TimerTolerance,
            $"{what} after {elapsed.TotalMilliseconds:0} ms, before its timeout of {timeout.TotalMilliseconds:0} ms.");
        Assert.True(elapsed <= timeout + TimerLateness,
            $"{what} only after {elapsed.TotalMilliseconds:0} ms, long after its timeout of {timeout.TotalMilliseconds:0} ms.");
    }

    /// <summary>Whether <paramref name="task"/> finishes within <paramref name="window"/>: used to observe that something stays blocked.</summary>
    public static async Task<bool> CompletesWithin(Task task, TimeSpan window)
    {
        var finished = await Task.WhenAny(task, Task.Delay(window, TestContext.Current.CancellationToken));
        return finished == task;
    }
}
