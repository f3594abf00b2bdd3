namespace Conec.Diagnostics;

/// <summary>
/// Lets one log entry through per interval and counts the rest, so that a flood (refusals at capacity, an accept
/// failing a thousand times a second) costs one line a second, which still says how many it stands for.
/// </summary>
internal sealed class LogThrottle(TimeSpan interval)
{
    private readonly Lock _lock = new();
    private long _nextAllowed;
    private int _suppressed;

    /// <summary>One entry a second: the rate every Conec warning about a flood uses.</summary>
    public LogThrottle()
        : this(TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>True when this occurrence is to be logged; <paramref name="suppressed"/> then counts those skipped since the last one.</summary>
    public bool ShouldLog(out int suppressed)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            if (now < _nextAllowed)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }

            _nextAllowed = now + (long)interval.TotalMilliseconds;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
