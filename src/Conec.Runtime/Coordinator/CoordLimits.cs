using System.Globalization;

namespace Conec.Coordinator;

/// <summary>
/// The capacity a coordinator runs with: <see cref="CoordConfig.MaxClients"/> and
/// <see cref="CoordConfig.MaxPendingHandshakes"/> as configured, or else derived from the descriptor limit (each TCP
/// client holds one descriptor on the coordinator). docs/scaling.md explains the numbers.
/// </summary>
internal readonly record struct CoordLimits(int MaxClients, int MaxPendingHandshakes, string Source)
{
    /// <summary>
    /// Descriptors kept back whatever the limit: an idle `conec coord` holds about 105 (two per loaded assembly,
    /// the epoll and its pipes, stdio), a few more once every code path has run, plus <see cref="Transport.SpareDescriptors"/>.
    /// </summary>
    public const int FixedReserve = 128;

    /// <summary>And a sixteenth of the limit: room for what grows with the process (log files, outgoing connections, threads starting).</summary>
    public const int ReserveDivisor = 16;

    /// <summary>Handshakes in progress at most, by default; fewer when the descriptors left are few (an eighth of them, at least 8).</summary>
    public const int DefaultMaxPendingHandshakes = 128;

    public const int MinDerivedPendingHandshakes = 8;

    /// <summary>Clients at most where no descriptor limit can be read (Windows): a number, since something must bound the coordinator.</summary>
    public const int FixedMaxClients = 10_000;

    /// <summary>The descriptors left out of <paramref name="limit"/> for the coordinator's own use.</summary>
    public static long Reserve(long limit) => FixedReserve + (limit / ReserveDivisor);

    /// <summary>
    /// What the configuration says, each unset value derived: with a known <paramref name="descriptorLimit"/> L,
    /// available = L − (128 + L/16), handshakes = available/8 within [8, 128], clients = available − handshakes.
    /// </summary>
    public static CoordLimits Resolve(int? maxClients, int? maxPendingHandshakes, long? descriptorLimit, string? whyNoLimit = null)
    {
        if (descriptorLimit is not { } limit)
        {
            return new CoordLimits(maxClients ?? FixedMaxClients, maxPendingHandshakes ?? DefaultMaxPendingHandshakes,
                maxClients is null ? $"a fixed default ({whyNoLimit ?? "no descriptor limit is known"})" : "CoordConfig.MaxClients");
        }

        var reserve = Reserve(limit);
        var available = Math.Max(0, limit - reserve);
        var pending = maxPendingHandshakes ?? (int)Math.Clamp(available / 8, MinDerivedPendingHandshakes, DefaultMaxPendingHandshakes);
        var clients = maxClients ?? (int)Math.Clamp(available - pending, 1, int.MaxValue);
        var source = maxClients is not null
            ? "CoordConfig.MaxClients"
            : string.Create(CultureInfo.InvariantCulture, $"the descriptor limit {limit}, less {reserve} kept for the process and {pending} for handshakes");
        return new CoordLimits(clients, pending, source);
    }
}
