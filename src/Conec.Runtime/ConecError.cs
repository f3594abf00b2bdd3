namespace Conec;

/// <summary>What went wrong, as carried by <see cref="ConecException.Error"/>.</summary>
/// <remarks>Values are stable: they appear in logs and may be persisted by users.</remarks>
public enum ConecError
{
    /// <summary>The peer closed the connection; <see cref="ConecException.ApplicationErrorCode"/> holds its code.</summary>
    ConnectionClosed = 1,

    /// <summary>This side closed or disposed the connection while the operation was pending.</summary>
    ConnectionAborted = 2,

    /// <summary>No frame arrived within the idle timeout.</summary>
    ConnectionIdle = 3,

    /// <summary>The underlying socket failed or the peer vanished without closing.</summary>
    ConnectionLost = 4,

    /// <summary>No connection could be made to the remote address.</summary>
    ConnectionRefused = 5,

    /// <summary>The TLS handshake failed (untrusted certificate, wrong host name, refused client certificate, wrong ALPN).</summary>
    HandshakeFailed = 6,

    /// <summary>The peer broke the wire protocol (malformed frame, flow-control violation, unknown frame type).</summary>
    ProtocolViolation = 7,

    /// <summary>The peer aborted its sending side of the stream; <see cref="ConecException.ApplicationErrorCode"/> holds its code.</summary>
    StreamAborted = 8,

    /// <summary>The peer stopped reading the stream; <see cref="ConecException.ApplicationErrorCode"/> holds its code.</summary>
    StreamStopped = 9,

    /// <summary>The stream's sending or receiving side was already closed by this side.</summary>
    StreamClosed = 10,

    /// <summary>A message exceeded the configured maximum size.</summary>
    MessageTooLarge = 11,

    /// <summary>The stream ended in the middle of a message.</summary>
    TruncatedMessage = 12,

    /// <summary>A certificate or key could not be created, read or used.</summary>
    InvalidCertificate = 13,

    /// <summary>The requested transport is not available on this machine (for example QUIC without libmsquic).</summary>
    TransportUnsupported = 14,

    /// <summary>The local address could not be bound.</summary>
    AddressInUse = 15,

    /// <summary>A configuration value is out of range or inconsistent.</summary>
    InvalidConfiguration = 16,

    /// <summary>The coordinator refused the client's id because a connected client already has it.</summary>
    IdInUse = 17,

    /// <summary>The two ends speak different Conec protocol versions; the message names both.</summary>
    VersionMismatch = 18,

    /// <summary>The coordinator refused the client's identity: the certificate is not valid for the id, or the id is not a DNS name.</summary>
    IdentityRejected = 19,

    /// <summary>No connected client has the requested id.</summary>
    UnknownPeer = 20,

    /// <summary>The stream id was already used by this client (ids are never reused).</summary>
    StreamIdInUse = 21,

    /// <summary>The peer did not complete a required step (such as the hello) in time.</summary>
    Timeout = 22,

    /// <summary>A direct channel to that peer already exists or is being set up (from either side).</summary>
    ChannelExists = 23,

    /// <summary>No direct channel to that peer exists.</summary>
    NoChannel = 24,

    /// <summary>The peer does not accept direct channels (it is not listening), or refused this one.</summary>
    ChannelRefused = 25,

    /// <summary>No broadcast channel has that name.</summary>
    UnknownBroadcast = 26,

    /// <summary>A broadcast message's sender tag is malformed.</summary>
    MalformedTag = 27,

    /// <summary>A message could not be serialized or deserialized as the expected type.</summary>
    MalformedMessage = 28,

    /// <summary>A configured limit was reached (for example broadcast memberships per client); the message names it.</summary>
    LimitExceeded = 29,

    /// <summary>
    /// Nobody on the coordinator takes streams opened to it: nothing reads <c>Coord.IncomingStreams</c> (and no hosted
    /// handler is registered), or the streams waiting to be taken reached <c>CoordConfig.IncomingStreamBacklog</c>.
    /// </summary>
    NotServed = 30,

    /// <summary>
    /// The coordinator holds as many clients as it admits (<c>CoordConfig.MaxClients</c>; the message names the
    /// limit). Transient: a client with reconnection on keeps retrying with back-off, and gets in once one leaves.
    /// </summary>
    CoordinatorFull = 31,

    /// <summary>
    /// An RPC call's deadline passed before its result arrived; the server's handler saw its token cancelled at the
    /// same deadline.
    /// </summary>
    DeadlineExceeded = 32,

    /// <summary>The RPC server's contract has no method with the called id: the peer was built from another version of the contract.</summary>
    UnknownMethod = 33,

    /// <summary>
    /// A coordinator of a cluster cannot reach the cluster's directory (Redis), so it cannot check that an id is
    /// unique or find a client on another node, or cannot reach the node that holds the client; retry, or try another node.
    /// </summary>
    ClusterUnavailable = 34,

    /// <summary>
    /// No direct path to the peer could be made within the hole-punching window: a NAT that picks a new port for
    /// every destination, or a firewall, stands between the two; a proxied stream still reaches the peer.
    /// </summary>
    PeerUnreachable = 35,
}
