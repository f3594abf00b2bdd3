namespace Conec;

/// <summary>Which transport carries Conec's connections.</summary>
public enum TransportMode
{
    /// <summary>
    /// QUIC where the platform supports it, TLS over TCP otherwise. A coordinator listens on both (UDP and TCP on the
    /// same port number); a client tries QUIC first and falls back to TCP quickly.
    /// </summary>
    Auto = 0,

    /// <summary>QUIC only (System.Net.Quic, which needs libmsquic on Linux and macOS).</summary>
    Quic = 1,

    /// <summary>TLS 1.3 over TCP with Conec's stream multiplexer.</summary>
    Tcp = 2,
}
