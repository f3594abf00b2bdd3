namespace Conec;

/// <summary>The client is connected again, with its id, and has re-joined its broadcasts.</summary>
/// <param name="attempts">How many attempts it took.</param>
/// <param name="broadcasts">The re-joined broadcasts: their old streams failed with the lost connection; read and write these instead.</param>
public sealed class ReconnectedEventArgs(int attempts, IReadOnlyList<RejoinedBroadcast> broadcasts) : EventArgs
{
    /// <summary>How many attempts it took.</summary>
    public int Attempts { get; } = attempts;

    /// <summary>The re-joined broadcasts, each with its new streams.</summary>
    public IReadOnlyList<RejoinedBroadcast> Broadcasts { get; } = broadcasts;
}
