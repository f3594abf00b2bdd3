using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Transport;

/// <summary>
/// One mutually authenticated connection carrying independent bidirectional streams (QUIC semantics, RFC 9000 §2).
/// </summary>
internal abstract class TransportConnection : IAsyncDisposable
{
    /// <summary>The certificate the peer presented in the TLS handshake.</summary>
    public abstract X509Certificate2 RemoteCertificate { get; }

    /// <summary>The peer's address as this side sees it.</summary>
    public abstract IPEndPoint RemoteEndPoint { get; }

    /// <summary>This side's address.</summary>
    public abstract IPEndPoint LocalEndPoint { get; }

    /// <summary>Which transport this is (never <see cref="TransportMode.Auto"/>).</summary>
    public abstract TransportMode Mode { get; }

    /// <summary>Completes when the connection is closed, with the exception that describes why (never faults).</summary>
    public abstract Task<ConecException> Closed { get; }

    /// <summary>
    /// Opens a bidirectional stream without a round trip; the peer learns of it when the first frame arrives.
    /// Waits only when the peer's stream limit is reached.
    /// </summary>
    public abstract ValueTask<TransportStream> OpenStreamAsync(CancellationToken cancellationToken);

    /// <summary>Waits for a stream the peer opened.</summary>
    public abstract ValueTask<TransportStream> AcceptStreamAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Closes the connection with an application code and reason. Every stream on it fails on both sides.
    /// QUIC carries the code only (System.Net.Quic has no close reason text); TCP carries both.
    /// </summary>
    public abstract ValueTask CloseAsync(long errorCode, string reason, CancellationToken cancellationToken);

    /// <summary>Closes with code 0 if still open and releases the socket.</summary>
    public abstract ValueTask DisposeAsync();
}
