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

    /// <summary><c>[5, channel, sid, policy, capacity]</c>, client → coordinator: join broadcast <c>channel</c>.</summary>
    Broadcast = 5,

    /// <summary><c>[6, channel, sid]</c>, client → coordinator: how many senders and receivers <c>channel</c> has.</summary>
    BroadcastCount = 6,

    /// <summary><c>[7, to, sid]</c>, client → coordinator: broker a direct channel to client <c>to</c>.</summary>
    ChannelRequest = 7,

    /// <summary><c>[8, from, sid, certificate, address, port]</c>, coordinator → client: <c>from</c> wants a direct channel.</summary>
    ChannelOffer = 8,

    /// <summary><c>[9, from, sid]</c>, client → client on a direct channel: a direct stream.</summary>
    Direct = 9,
}
