using MessagePack;

namespace Conec.Benchmarks;

/// <summary>The small record the typed benchmark sends: three fields, as a sensor reading might be.</summary>
[MessagePackObject]
public sealed record Reading([property: Key(0)] int Sensor, [property: Key(1)] double Value, [property: Key(2)] long Timestamp);

/// <summary>The contract the typed benchmark uses: one one-way method and one call.</summary>
[ConecStream]
public interface ITelemetry
{
    ValueTask Report(Reading reading);

    ValueTask<int> Add(int a, int b, CancellationToken cancellationToken);
}

/// <summary>The server side of <see cref="ITelemetry"/> in the benchmark.</summary>
internal sealed class Telemetry : ITelemetry
{
    public ValueTask Report(Reading reading) => ValueTask.CompletedTask;

    public ValueTask<int> Add(int a, int b, CancellationToken cancellationToken) => ValueTask.FromResult(a + b);
}
