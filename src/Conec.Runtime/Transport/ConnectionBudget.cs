using Conec.Diagnostics;

namespace Conec.Transport;

/// <summary>
/// What a coordinator's listeners may take on: at most <see cref="Capacity"/> connections held (a TCP connection from
/// its accept, handshake included, until its disposal; a QUIC one from its handshake's end), and at most
/// <see cref="MaxPending"/> handshakes in progress, refused ones included. One budget serves every listener of a
/// coordinator (QUIC and TCP alike under <see cref="TransportMode.Auto"/>), so the limits hold across transports.
/// </summary>
internal sealed class ConnectionBudget
{
    private readonly ConecMetrics _metrics;
    private int _held;
    private int _pending;

    public ConnectionBudget(int capacity, int maxPending, ConecMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        Capacity = capacity;
        MaxPending = maxPending;
        _metrics = metrics;
    }

    /// <summary>Connections the listeners may hold at once: <see cref="CoordConfig.MaxClients"/>, resolved.</summary>
    public int Capacity { get; }

    /// <summary>Handshakes that may be in progress at once: <see cref="CoordConfig.MaxPendingHandshakes"/>, resolved.</summary>
    public int MaxPending { get; }

    public int Held => Volatile.Read(ref _held);

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// Counts a handshake as started; false when that makes more than <see cref="MaxPending"/>. Either way the
    /// caller ends it with <see cref="ExitHandshake"/>, so a refusal in progress counts as long as it lasts.
    /// </summary>
    public bool EnterHandshake()
    {
        _metrics.Handshakes.Add(1);
        return Interlocked.Increment(ref _pending) <= MaxPending;
    }

    public void ExitHandshake()
    {
        Interlocked.Decrement(ref _pending);
        _metrics.Handshakes.Add(-1);
    }

    /// <summary>Takes one of the <see cref="Capacity"/> places, or returns false when all are held.</summary>
    public bool TryTake()
    {
        if (Interlocked.Increment(ref _held) <= Capacity)
        {
            return true;
        }

        Interlocked.Decrement(ref _held);
        return false;
    }

    /// <summary>Gives back a place taken by <see cref="TryTake"/>, once the connection holding it is disposed.</summary>
    public void Release() => Interlocked.Decrement(ref _held);

    /// <summary>Counts a connection turned away before its hello, by reason (see <see cref="RefusalReasons"/>).</summary>
    public void CountRefusal(string reason) => _metrics.Refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The message a client refused for capacity reads; it names the limit and the setting.</summary>
    public string FullReason() =>
        $"the coordinator is full: it holds {Capacity} connections, its limit (CoordConfig.MaxClients); try again later";
}
