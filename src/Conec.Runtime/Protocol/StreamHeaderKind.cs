namespace Conec.Protocol;

/// <summary>What a data stream is for: the first element of its header frame. Values are wire constants.</summary>
internal enum StreamHeaderKind
{
    /// <summary><c>[1, to, sid]</c>, client → coordinator: relay this stream to client <c>to</c>.</summary>
    ToPeer = 1,

    /// <summary><c>[2, sid]</c>, client → coordinator: a stream for the coordinator itself.</summary>
    ToCoordinator = 2,

    /// <summary><c>[3, from, sid]</c>, coordinator → client: a relayed stream that client <c>from</c> opened.</summary>
    FromPeer = 3,

    /// <summary><c>[4, sid]</c>, coordinator → client: a stream the coordinator opened.</summary>
    FromCoordinator = 4,
}
