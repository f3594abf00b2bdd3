using System.Collections.Concurrent;

namespace Conec.Transport;

/// <summary>
/// One timer for every connection that ticks at the same interval: each tick calls every registered connection's
/// check (idle timeout, keep-alive) in one pass, instead of one timer per connection waking on its own. The timer
/// runs only while connections are registered, so an idle process has none.
/// </summary>
/// <remarks>
/// A check runs on the timer's thread inside the sweep and must be short and never block: one that has real work
/// to do (closing a connection) queues it. Registering and unregistering are O(1).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification =
    "The timer is disposed when the last connection leaves; the sweep itself lives as long as the process.")]
internal sealed class ConnectionSweep
{
    private static readonly ConcurrentDictionary<long, ConnectionSweep> ByTick = new();

    private readonly Lock _lock = new();
    private readonly List<Registration> _registered = [];
    private readonly TimeSpan _tick;
    private Timer? _timer;

    private ConnectionSweep(TimeSpan tick) => _tick = tick;

    /// <summary>Calls <paramref name="check"/> with <see cref="Environment.TickCount64"/> every <paramref name="tick"/> until the result is disposed.</summary>
    public static IDisposable Register(TimeSpan tick, Action<long> check)
    {
        var sweep = ByTick.GetOrAdd(tick.Ticks, static ticks => new ConnectionSweep(TimeSpan.FromTicks(ticks)));
        var registration = new Registration(sweep, check);
        sweep.Add(registration);
        return registration;
    }

    /// <summary>Connections registered at <paramref name="tick"/>, for tests.</summary>
    internal static int CountAt(TimeSpan tick) => ByTick.TryGetValue(tick.Ticks, out var sweep) ? sweep.Count : 0;

    private int Count
    {
        get
        {
            lock (_lock)
            {
                return _registered.Count;
            }
        }
    }

    private void Add(Registration registration)
    {
        lock (_lock)
        {
            registration.Index = _registered.Count;
            _registered.Add(registration);
            if (_timer is null)
            {
                // Not captured by the execution context of whoever registered first: the timer serves everyone.
                using (ExecutionContext.SuppressFlow())
                {
                    _timer = new Timer(static state => ((ConnectionSweep)state!).Sweep(), this, _tick, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    private void Remove(Registration registration)
    {
        lock (_lock)
        {
            var index = registration.Index;
            if (index < 0)
            {
                return;
            }

            // Swap the last one into the hole: removal stays O(1) at any count.
            var last = _registered[^1];
            _registered[index] = last;
            last.Index = index;
            _registered.RemoveAt(_registered.Count - 1);
            registration.Index = -1;
            if (_registered.Count == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            foreach (var registration in _registered)
            {
                registration.Check(now);
            }

            // Re-armed after the pass, so two passes never overlap however long one takes.
            _timer?.Change(_tick, Timeout.InfiniteTimeSpan);
        }
    }

    private sealed class Registration(ConnectionSweep sweep, Action<long> check) : IDisposable
    {
        public int Index { get; set; } = -1;

        public void Check(long now) => check(now);

        public void Dispose() => sweep.Remove(this);
    }
}
