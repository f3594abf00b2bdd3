using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Conec.Diagnostics;

/// <summary>
/// Conec's traces (<see cref="ActivitySource"/> "Conec") and its process-wide <see cref="Meter"/> "Conec", which
/// carries <see cref="ConecMetrics.Shared"/>. Instrument names follow OpenTelemetry's conventions;
/// docs/architecture.md lists them.
/// </summary>
internal static class ConecTelemetry
{
    public const string Name = "Conec";

    public static readonly string? Version = typeof(ConecTelemetry).Assembly.GetName().Version?.ToString();

    public static readonly ActivitySource Source = new(Name, Version);

    /// <summary>The meter of every coordinator and client not given an <see cref="IMeterFactory"/>.</summary>
    public static readonly Meter Meter = new(Name, Version);

    /// <summary>The W3C traceparent of the current activity, or null when nobody traces.</summary>
    public static string? CurrentTraceParent() => Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C ? activity.Id : null;

    /// <summary>The context a remote peer sent, or default when it sent none or garbage.</summary>
    public static ActivityContext ParseTraceParent(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
}
