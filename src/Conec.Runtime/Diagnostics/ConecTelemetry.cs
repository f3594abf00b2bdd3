using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Conec.Diagnostics;

/// <summary>
/// Conec's metrics (<see cref="Meter"/> "Conec") and traces (<see cref="ActivitySource"/> "Conec"). Instrument
/// names follow OpenTelemetry's conventions; docs/architecture.md lists them.
/// </summary>
internal static class ConecTelemetry
{
    public const string Name = "Conec";

    public static readonly ActivitySource Source = new(Name, typeof(ConecTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(ConecTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Clients registered on coordinators in this process.</summary>
    public static readonly UpDownCounter<int> Clients = Meter.CreateUpDownCounter<int>("conec.coordinator.clients", "{client}", "Clients registered right now.");

    /// <summary>Streams opened, by kind (proxied, direct, coordinator, broadcast).</summary>
    public static readonly Counter<long> StreamsOpened = Meter.CreateCounter<long>("conec.streams.opened", "{stream}", "Streams opened, by kind.");

    /// <summary>Bytes the coordinator relayed between clients.</summary>
    public static readonly Counter<long> RelayedBytes = Meter.CreateCounter<long>("conec.relay.bytes", "By", "Bytes relayed by the coordinator.");

    /// <summary>Broadcast messages fanned out (counted once per message, not per receiver).</summary>
    public static readonly Counter<long> BroadcastMessages = Meter.CreateCounter<long>("conec.broadcast.messages", "{message}", "Broadcast messages fanned out.");

    /// <summary>Broadcast messages a receiver did not get, by reason (drop_oldest, disconnect).</summary>
    public static readonly Counter<long> BroadcastDrops = Meter.CreateCounter<long>("conec.broadcast.drops", "{message}", "Broadcast messages dropped for slow receivers, by reason.");

    /// <summary>Connections refused at the hello, by reason.</summary>
    public static readonly Counter<long> HandshakeFailures = Meter.CreateCounter<long>("conec.handshake.failures", "{connection}", "Hellos refused, by reason.");

    /// <summary>The W3C traceparent of the current activity, or null when nobody traces.</summary>
    public static string? CurrentTraceParent() => Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C ? activity.Id : null;

    /// <summary>The context a remote peer sent, or default when it sent none or garbage.</summary>
    public static ActivityContext ParseTraceParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
}
