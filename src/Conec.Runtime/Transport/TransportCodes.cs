namespace Conec.Transport;

/// <summary>
/// The application codes the transports themselves put on closes and aborts. They are the values the Conec
/// protocol gives the same events (<c>Protocol.ProtocolCodes</c>, docs/protocol.md); a test keeps the two equal.
/// </summary>
internal static class TransportCodes
{
    /// <summary>Connection closed because the peer broke the protocol (for the multiplexer: a malformed frame).</summary>
    public const long CloseProtocolViolation = 1;

    /// <summary>Connection refused right after the TLS handshake: the coordinator holds as many connections as it admits.</summary>
    public const long CloseCoordinatorFull = 5;

    /// <summary>Stream refused: one the transport never expects (a stray unidirectional QUIC stream).</summary>
    public const long StreamRefused = 0x12;
}
