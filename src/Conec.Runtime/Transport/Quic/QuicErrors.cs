using System.Net;
using System.Net.Quic;
using System.Runtime.Versioning;

namespace Conec.Transport.Quic;

/// <summary>Translates System.Net.Quic's errors into Conec's, keeping the application codes.</summary>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal static class QuicErrors
{
    /// <summary>
    /// Maps a TLS failure that QUIC reports after its handshake: the peer refused this side's certificate with an
    /// alert once the connection was already up (TLS 1.3 checks the client's certificate last).
    /// </summary>
    public static ConecException Map(System.Security.Authentication.AuthenticationException e) =>
        new(ConecError.HandshakeFailed, $"The peer refused the TLS handshake: {e.Message}", e);

    /// <summary>
    /// Maps a failure of a client's connect (its handshake, or the wait for the server's ready signal), when the
    /// server's words can only be its codes: a close with <see cref="TransportCodes.CloseCoordinatorFull"/> is a full
    /// coordinator; a refusal or a failure inside msquic is transient, so that reconnection retries it.
    /// </summary>
    public static ConecException MapConnect(QuicException e, IPEndPoint remote) => e.QuicError switch
    {
        QuicError.ConnectionAborted when e.ApplicationErrorCode == TransportCodes.CloseCoordinatorFull => new ConecException(ConecError.CoordinatorFull,
            $"{remote} refused the connection: the coordinator is full, it holds as many connections as its limit (CoordConfig.MaxClients) allows; try again later.",
            e.ApplicationErrorCode, e),
        QuicError.ConnectionAborted => new ConecException(ConecError.ConnectionClosed,
            $"{remote} closed the QUIC connection (code {e.ApplicationErrorCode}) before accepting it.", e.ApplicationErrorCode, e),
        QuicError.ConnectionRefused => new ConecException(ConecError.ConnectionRefused,
            $"{remote} refused the QUIC connection (CONNECTION_REFUSED: it takes no new connection now): {e.Message}", e),
        QuicError.InternalError or QuicError.TransportError => new ConecException(ConecError.ConnectionLost,
            $"The QUIC handshake with {remote} failed ({e.QuicError}): {e.Message}", e),
        _ => Map(e, writing: false),
    };

    /// <summary>
    /// Maps an exception. <paramref name="writing"/> tells a peer's STOP_SENDING (seen by a writer) from its
    /// RESET_STREAM (seen by a reader): QUIC reports both as <see cref="QuicError.StreamAborted"/>.
    /// </summary>
    public static ConecException Map(QuicException e, bool writing) => e.QuicError switch
    {
        QuicError.StreamAborted when writing => new ConecException(ConecError.StreamStopped,
            $"The peer stopped reading the stream (code {e.ApplicationErrorCode}).", e.ApplicationErrorCode, e),
        QuicError.StreamAborted => new ConecException(ConecError.StreamAborted,
            $"The peer aborted the stream (code {e.ApplicationErrorCode}).", e.ApplicationErrorCode, e),
        QuicError.ConnectionAborted => new ConecException(ConecError.ConnectionClosed,
            $"The peer closed the connection (code {e.ApplicationErrorCode}).", e.ApplicationErrorCode, e),
        QuicError.ConnectionIdle => new ConecException(ConecError.ConnectionIdle, "The connection timed out for inactivity (idle timeout).", e),
        QuicError.OperationAborted => new ConecException(ConecError.ConnectionAborted, "The connection or stream was closed locally.", e),
        QuicError.ConnectionRefused or QuicError.ConnectionTimeout => new ConecException(
            ConecError.ConnectionRefused, $"No QUIC connection could be made: {e.Message}", e),
        QuicError.AlpnInUse => new ConecException(ConecError.AddressInUse, e.Message, e),
        QuicError.VersionNegotiationError => new ConecException(ConecError.HandshakeFailed, e.Message, e),
        _ => new ConecException(ConecError.ProtocolViolation, $"QUIC failed ({e.QuicError}): {e.Message}", e),
    };
}
