using Conec.Streams;

namespace Conec.Protocol;

/// <summary>
/// Application codes Conec itself puts on connection closes and stream aborts. Stream codes 0x10–0x1F are
/// reserved for Conec (docs/protocol.md); applications choose theirs outside that range.
/// </summary>
internal static class ProtocolCodes
{
    /// <summary>Connection closed on purpose: a client disposed, or a direct channel closed.</summary>
    public const long CloseNormal = 0;

    /// <summary>Connection closed because the peer broke the protocol (bad control message, unknown tag).</summary>
    public const long CloseProtocolViolation = 1;

    /// <summary>Connection closed after the hello was refused (the refusal itself travels on the control stream).</summary>
    public const long CloseHelloRefused = 2;

    /// <summary>Connection closed because no hello arrived within the hello timeout.</summary>
    public const long CloseHelloTimeout = 3;

    /// <summary>Connection closed because the coordinator is shutting down.</summary>
    public const long CloseShutdown = 4;

    /// <summary>
    /// Connection refused before the hello because the coordinator is full (<c>CoordConfig.MaxClients</c>): over TCP
    /// on the REFUSED close frame that replaces SETTINGS, over QUIC as the close code right after the handshake.
    /// </summary>
    public const long CloseCoordinatorFull = 5;

    /// <summary>Connection closed because, in a cluster, another client holds the id (docs/cluster.md, re-asserting claims).</summary>
    public const long CloseIdInUse = 6;

    /// <summary>Stream stopped: a message was larger than the receiver's limit (see <c>FrameLimits</c>).</summary>
    public const long StreamMessageTooLarge = FrameLimits.MessageTooLargeCode;

    /// <summary>Stream aborted by a relay: the other end of a proxied stream disconnected.</summary>
    public const long StreamPeerLost = 0x11;

    /// <summary>Stream refused: its header was missing, malformed, late, or named something unknown.</summary>
    public const long StreamHeaderRefused = 0x12;

    /// <summary>Broadcast output aborted: the receiver fell behind under <see cref="SlowReceiverPolicy.Disconnect"/>.</summary>
    public const long StreamTooSlow = 0x13;

    /// <summary>Broadcast input stopped: the channel ended because no receiver remains.</summary>
    public const long StreamBroadcastEnded = 0x14;

    /// <summary>Stream aborted by a relay: the link between the two coordinators of a cluster that carried it broke.</summary>
    public const long StreamLinkLost = 0x15;

    /// <summary>Human-readable meaning of a connection close code, for error messages.</summary>
    public static string DescribeClose(long code) => code switch
    {
        CloseNormal => "closed normally",
        CloseProtocolViolation => "closed because the peer broke the Conec protocol",
        CloseHelloRefused => "closed after refusing the hello",
        CloseHelloTimeout => "closed because no hello arrived in time",
        CloseShutdown => "closed because the coordinator shut down",
        CloseCoordinatorFull => "closed because the coordinator is full",
        CloseIdInUse => "closed because another client holds this id in the cluster",
        _ => $"closed with application code {code}",
    };
}
