namespace Conec.Transport;

/// <summary>Windows, limits and timers of one transport connection; both implementations honour every field.</summary>
internal sealed record TransportSettings
{
    /// <summary>
    /// Bytes a peer may send on one stream before the reader consumes them. 1 MiB fills a 10 ms path at 800 Mbit/s
    /// per stream while keeping a reader that never reads to a bounded, small cost (quinn used 1.25 MB).
    /// </summary>
    public int StreamReceiveWindow { get; init; } = 1024 * 1024;

    /// <summary>
    /// Bytes a peer may have in flight across all streams of a connection. 16 MiB lets 16 streams run at full
    /// per-stream window at once and caps what one connection can make its peer buffer.
    /// </summary>
    public int ConnectionReceiveWindow { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Streams the peer may have open towards us at once. Opening more waits (it is not an error), as in QUIC's
    /// MAX_STREAMS; 1,024 is ample for a client and bounds per-connection state on the coordinator.
    /// </summary>
    public int MaxInboundStreams { get; init; } = 1024;

    /// <summary>A connection that receives nothing for this long is closed with <see cref="ConecError.ConnectionIdle"/>. conec used 10 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Interval of keep-alive pings, or <see langword="null"/> for none. conec's 20/3 s sits safely inside its 10 s
    /// idle timeout, so one lost ping does not kill an idle connection.
    /// </summary>
    public TimeSpan? KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(20.0 / 3.0);

    /// <summary>The TLS handshake (and the transport's own settings exchange) must finish within this time.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ConecException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        Require(StreamReceiveWindow >= 1024, nameof(StreamReceiveWindow), "must be at least 1024 bytes");
        Require(ConnectionReceiveWindow >= StreamReceiveWindow, nameof(ConnectionReceiveWindow), "must be at least the stream window");
        Require(MaxInboundStreams is >= 1 and <= 1 << 24, nameof(MaxInboundStreams), "must be between 1 and 16,777,216");
        Require(IdleTimeout > TimeSpan.Zero, nameof(IdleTimeout), "must be positive");
        Require(KeepAliveInterval is null || KeepAliveInterval > TimeSpan.Zero, nameof(KeepAliveInterval), "must be positive or null");
        Require(HandshakeTimeout > TimeSpan.Zero, nameof(HandshakeTimeout), "must be positive");
    }

    private static void Require(bool condition, string property, string rule)
    {
        if (!condition)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"Transport setting {property} {rule}.");
        }
    }
}
