namespace Conec;

/// <summary>A broadcast the client re-joined after reconnecting.</summary>
/// <param name="Channel">The channel's name.</param>
/// <param name="Pair">The new streams of the membership.</param>
public sealed record RejoinedBroadcast(string Channel, StreamPair Pair);
