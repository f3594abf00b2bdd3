namespace Conec;

/// <summary>A broadcast channel's membership at the moment it was asked: members still writing, members still reading.</summary>
/// <param name="Senders">Members whose writer is open.</param>
/// <param name="Receivers">Members whose reader is open.</param>
public readonly record struct BroadcastCount(int Senders, int Receivers);
