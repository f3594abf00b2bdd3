namespace Conec;

/// <summary>The client is connected again, with its id, and has tried to re-join its broadcasts.</summary>
/// <param name="attempts">How many attempts it took.</param>
/// <param name="broadcasts">The re-joined broadcasts: their old streams failed with the lost connection; read and write these instead.</param>
/// <param name="failedBroadcasts">The broadcasts that could not be re-joined, each with the refusal.</param>
public sealed class ReconnectedEventArgs(int attempts, IReadOnlyList<RejoinedBroadcast> broadcasts, IReadOnlyList<BroadcastRejoinFailure> failedBroadcasts) : EventArgs
{
    /// <summary>How many attempts it took.</summary>
    public int Attempts { get; } = attempts;

    /// <summary>The re-joined broadcasts, each with its new streams.</summary>
    public IReadOnlyList<RejoinedBroadcast> Broadcasts { get; } = broadcasts;

    /// <summary>The broadcasts that could not be re-joined; the client is no longer a member of these.</summary>
    public IReadOnlyList<BroadcastRejoinFailure> FailedBroadcasts { get; } = failedBroadcasts;
}
