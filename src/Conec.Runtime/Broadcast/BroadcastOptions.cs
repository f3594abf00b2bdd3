namespace Conec;

/// <summary>How this member of a broadcast channel receives: its slow-receiver policy and queue size.</summary>
public sealed class BroadcastOptions
{
    /// <summary>The defaults: lossless (<see cref="SlowReceiverPolicy.Wait"/>) with a 256-message queue.</summary>
    public static BroadcastOptions Default { get; } = new();

    /// <summary>What happens when this receiver's queue is full (lossless waiting by default).</summary>
    public SlowReceiverPolicy Policy { get; init; } = SlowReceiverPolicy.Wait;

    /// <summary>
    /// Messages the coordinator queues for this receiver beyond what the transport window holds. 256 absorbs a burst
    /// from every member of a busy channel and lets the coordinator fan small messages out in large batches. Under
    /// <see cref="SlowReceiverPolicy.Wait"/> the queue also holds at most about 4 MiB, so a slow receiver of large
    /// messages costs the coordinator little.
    /// </summary>
    public int Capacity { get; init; } = 256;

    /// <summary>Throws <see cref="ConecException"/> with <see cref="ConecError.InvalidConfiguration"/> naming the bad property.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Policy))
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"BroadcastOptions.Policy {Policy} is not a known policy.");
        }

        if (Capacity is < 1 or > 1 << 20)
        {
            throw new ConecException(ConecError.InvalidConfiguration, "BroadcastOptions.Capacity must be between 1 and 1,048,576 messages.");
        }
    }
}
