using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Conec.Diagnostics;

/// <summary>
/// Conec's instruments on one meter named "Conec": the process-wide <see cref="ConecTelemetry.Meter"/>
/// (<see cref="Shared"/>), or the meter an <see cref="IMeterFactory"/> gave a coordinator or client, so that what one
/// instance measured can be told from the rest of the process.
/// </summary>
internal sealed class ConecMetrics
{
    /// <summary>One set of instruments per meter: a factory hands every instance that shares it the same meter.</summary>
    private static readonly ConditionalWeakTable<Meter, ConecMetrics> ByMeter = [];

    /// <summary>The live coordinators' capacities on this meter; the gauge reports their sum, as the clients counter sums.</summary>
    private readonly List<Func<int>> _capacities = [];

    private ConecMetrics(Meter meter)
    {
        Clients = meter.CreateUpDownCounter<int>("conec.coordinator.clients", "{client}", "Clients registered right now.");
        StreamsOpened = meter.CreateCounter<long>("conec.streams.opened", "{stream}", "Streams opened, by kind.");
        RelayedBytes = meter.CreateCounter<long>("conec.relay.bytes", "By", "Bytes relayed by the coordinator.");
        BroadcastMessages = meter.CreateCounter<long>("conec.broadcast.messages", "{message}", "Broadcast messages fanned out.");
        BroadcastDrops = meter.CreateCounter<long>("conec.broadcast.drops", "{message}", "Broadcast messages dropped for slow receivers, by reason.");
        HandshakeFailures = meter.CreateCounter<long>("conec.handshake.failures", "{connection}", "Hellos refused, by reason.");
        Refusals = meter.CreateCounter<long>("conec.coordinator.refusals", "{connection}", "Connections turned away before their hello, by reason.");
        Handshakes = meter.CreateUpDownCounter<int>("conec.coordinator.handshakes", "{connection}", "Connections in their TLS and transport handshake right now.");
        meter.CreateObservableGauge("conec.coordinator.capacity", ObserveCapacity, "{connection}", "Connections the coordinator(s) measured here admit at most (CoordConfig.MaxClients).");
    }

    /// <summary>The instruments of every coordinator and client without a meter factory of its own.</summary>
    public static ConecMetrics Shared { get; } = ByMeter.GetValue(ConecTelemetry.Meter, static meter => new ConecMetrics(meter));

    /// <summary>Clients registered on the coordinator(s) measured here.</summary>
    public UpDownCounter<int> Clients { get; }

    /// <summary>Streams opened, by kind (proxied, direct, coordinator, broadcast).</summary>
    public Counter<long> StreamsOpened { get; }

    /// <summary>Bytes the coordinator relayed between clients.</summary>
    public Counter<long> RelayedBytes { get; }

    /// <summary>Broadcast messages fanned out (counted once per message, not per receiver).</summary>
    public Counter<long> BroadcastMessages { get; }

    /// <summary>Broadcast messages a receiver did not get, by reason (drop_oldest, disconnect).</summary>
    public Counter<long> BroadcastDrops { get; }

    /// <summary>Connections refused at the hello, by reason.</summary>
    public Counter<long> HandshakeFailures { get; }

    /// <summary>Connections a coordinator's listeners turned away before the hello, by reason (see <c>RefusalReasons</c>).</summary>
    public Counter<long> Refusals { get; }

    /// <summary>Connections in their handshake on the coordinator(s) measured here, refused ones included.</summary>
    public UpDownCounter<int> Handshakes { get; }

    /// <summary>The instruments on <paramref name="factory"/>'s "Conec" meter, or <see cref="Shared"/> without a factory.</summary>
    public static ConecMetrics For(IMeterFactory? factory) => factory is null
        ? Shared
        : ByMeter.GetValue(factory.Create(new MeterOptions(ConecTelemetry.Name) { Version = ConecTelemetry.Version }), static meter => new ConecMetrics(meter));

    /// <summary>Adds a coordinator's capacity to <c>conec.coordinator.capacity</c> until the result is disposed.</summary>
    public IDisposable TrackCapacity(Func<int> capacity)
    {
        lock (_capacities)
        {
            _capacities.Add(capacity);
        }

        return new CapacityRegistration(this, capacity);
    }

    /// <summary>Counts bytes the relay forwarded (a method group, so the relay's transports can call it).</summary>
    public void CountRelayed(long bytes) => RelayedBytes.Add(bytes);

    private long ObserveCapacity()
    {
        lock (_capacities)
        {
            return _capacities.Sum(capacity => (long)capacity());
        }
    }

    private sealed class CapacityRegistration(ConecMetrics metrics, Func<int> capacity) : IDisposable
    {
        public void Dispose()
        {
            lock (metrics._capacities)
            {
                metrics._capacities.Remove(capacity);
            }
        }
    }
}
