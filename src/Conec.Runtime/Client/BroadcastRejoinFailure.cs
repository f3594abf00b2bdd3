namespace Conec;

/// <summary>A broadcast the client was a member of but could not re-join after reconnecting.</summary>
/// <param name="Channel">The channel's name.</param>
/// <param name="Error">Why the join was refused (for example <see cref="ConecError.LimitExceeded"/>).</param>
public sealed record BroadcastRejoinFailure(string Channel, ConecException Error);
