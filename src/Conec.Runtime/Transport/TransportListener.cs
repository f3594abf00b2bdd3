using System.Net;

namespace Conec.Transport;

/// <summary>Accepts authenticated transport connections (QUIC or TLS/TCP).</summary>
internal abstract class TransportListener : IAsyncDisposable
{
    /// <summary>The bound address; with port 0 requested this carries the port the OS chose.</summary>
    public abstract IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Waits for the next connection whose handshake succeeded. Failed handshakes are logged and skipped, never
    /// surfaced here, so one bad peer cannot stop the accept loop.
    /// </summary>
    public abstract ValueTask<TransportConnection> AcceptConnectionAsync(CancellationToken cancellationToken);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
