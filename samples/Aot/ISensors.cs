namespace Conec.Samples.Aot;

/// <summary>The sample's contract: readings broadcast one way, and a call that averages them.</summary>
[ConecStream]
public interface ISensors
{
    /// <summary>Publishes a reading.</summary>
    ValueTask Publish(Reading reading);

    /// <summary>Averages readings on the serving client.</summary>
    ValueTask<Reading> Average(Reading[] readings, CancellationToken cancellationToken);

    /// <summary>Smooths readings as they arrive: each answer is the running average so far (both directions stream).</summary>
    IAsyncEnumerable<Reading> Smooth(IAsyncEnumerable<Reading> readings, CancellationToken cancellationToken);
}
