namespace Conec.Transport;

/// <summary>
/// The pause of an accept loop after a transient failure (no descriptor, no buffer, a connection reset in the
/// queue): 10 ms, doubling to 1 s, back to 10 ms after a successful accept. The first retry comes at once for a
/// one-off error; a lasting shortage costs one attempt a second instead of a spinning core.
/// </summary>
internal sealed class AcceptBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(10);

    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(1);

    private TimeSpan _next = First;

    /// <summary>The pause the next wait will take.</summary>
    public TimeSpan Next => _next;

    public void Reset() => _next = First;

    /// <summary>Waits the current pause and doubles the next one; throws <see cref="OperationCanceledException"/> on cancellation.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var pause = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, Longest.Ticks));
        await Task.Delay(pause, cancellationToken);
    }
}
