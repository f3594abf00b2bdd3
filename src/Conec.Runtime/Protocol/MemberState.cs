namespace Conec.Protocol;

/// <summary>One of the asker's broadcast memberships, as the asker sees it: its stream id, and whether it still writes and reads.</summary>
internal readonly record struct MemberState(ulong StreamId, bool Writing, bool Reading);
