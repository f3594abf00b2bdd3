namespace Conec.Transport.Tcp;

/// <summary>Frame types of the TCP stream multiplexer; docs/protocol.md describes each body.</summary>
internal enum MuxFrameType : byte
{
    /// <summary>Stream bytes (RFC 9000 §19.8 STREAM); flag FIN ends the sender's direction.</summary>
    Data = 0,

    /// <summary>The sender abandons its direction (RFC 9000 §19.4 RESET_STREAM); body: u64 code.</summary>
    ResetStream = 1,

    /// <summary>The receiver will read no more (RFC 9000 §19.5 STOP_SENDING); body: u64 code.</summary>
    StopSending = 2,

    /// <summary>New absolute receive limit of one stream (RFC 9000 §19.10); body: u64.</summary>
    MaxStreamData = 3,

    /// <summary>New absolute receive limit of the connection (RFC 9000 §19.9); body: u64.</summary>
    MaxData = 4,

    /// <summary>New cumulative count of streams the peer may open (RFC 9000 §19.11); body: u32.</summary>
    MaxStreams = 5,

    /// <summary>Keep-alive; flag ACK marks the echo; body: 8 opaque bytes.</summary>
    Ping = 6,

    /// <summary>First frame each side sends: windows and stream limit (RFC 9000 §18 transport parameters).</summary>
    Settings = 7,

    /// <summary>Connection close (RFC 9000 §19.19); flag TRANSPORT marks a protocol error; body: u64 code, UTF-8 reason.</summary>
    Close = 8,
}
