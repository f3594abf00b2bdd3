using System.Runtime.CompilerServices;

namespace Conec.Samples.Aot;

/// <summary>Serves <see cref="ISensors.Average"/> and <see cref="ISensors.Smooth"/>.</summary>
internal sealed class Averager : ISensors
{
    public ValueTask Publish(Reading reading) => ValueTask.CompletedTask;

    public ValueTask<Reading> Average(Reading[] readings, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new Reading("average", readings.Average(r => r.Celsius)));

    public async IAsyncEnumerable<Reading> Smooth(IAsyncEnumerable<Reading> readings, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        double sum = 0;
        var count = 0;
        await foreach (var reading in readings.WithCancellation(cancellationToken))
        {
            sum += reading.Celsius;
            yield return new Reading("smoothed", sum / ++count);
        }
    }
}
