namespace Conec.Samples.Aot;

/// <summary>Serves <see cref="ISensors.Average"/>.</summary>
internal sealed class Averager : ISensors
{
    public ValueTask Publish(Reading reading) => ValueTask.CompletedTask;

    public ValueTask<Reading> Average(Reading[] readings, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Reading("average", readings.Average(r => r.Celsius)));
}
