using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Protocol;
using Conec.Streams;
using Microsoft.Extensions.Logging;

namespace Conec;

/// <summary>
/// How a <see cref="Coord"/> listens, proves its name and decides whom to admit. Certificates can be given as
/// objects or as file paths (PEM, or DER when the name ends in <c>.der</c>), so the class binds from configuration.
/// </summary>
public sealed class CoordConfig
{
    /// <summary>The address to listen on: all IPv4 interfaces by default. Use <see cref="IPAddress.IPv6Any"/> for IPv6.</summary>
    public IPAddress Address { get; set; } = IPAddress.Any;

    /// <summary>The port to listen on (conec's 1719 by default; 0 lets the OS choose, see <see cref="Coord.LocalEndPoint"/>).</summary>
    public int Port { get; set; } = ProtocolConstants.DefaultPort;

    /// <summary>The coordinator's certificate with its private key; clients check it against the host name they dial.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Intermediate certificates sent after <see cref="Certificate"/>, if its issuer is not a root clients trust.</summary>
    public X509Certificate2Collection? CertificateChain { get; set; }

    /// <summary>Path of the certificate file (PEM may hold the chain), used when <see cref="Certificate"/> is not set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Path of the private key file for <see cref="CertificatePath"/> (PKCS#8 PEM or DER); may be the same file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>
    /// The client CA. When set, only clients whose certificate this CA signed are admitted (self-signed ones are
    /// refused); when unset, clients present self-signed certificates.
    /// </summary>
    public X509Certificate2? ClientAuthority { get; set; }

    /// <summary>Path of the client CA certificate, used when <see cref="ClientAuthority"/> is not set.</summary>
    public string? ClientAuthorityPath { get; set; }

    /// <summary>QUIC where available and TCP alongside it (<see cref="TransportMode.Auto"/>, the default), or one of them.</summary>
    public TransportMode Transport { get; set; } = TransportMode.Auto;

    /// <summary>
    /// A client connection that carries nothing for this long is closed (30 s; conec's was 10 s, which made idle
    /// clients' pings a tenth of a core per 10,000: docs/scaling.md). Clients keep their connection alive by default,
    /// so only dead or silent peers reach it.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A connection must complete its TLS handshake and send its hello within this time, else it is closed:
    /// a peer that connects and says nothing holds a slot for no longer than this.
    /// </summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest message on streams between a client and the coordinator itself (8 MiB by default, as conec).</summary>
    public int MaxMessageSize { get; set; } = FrameLimits.DefaultMaxMessageSize;

    /// <summary>
    /// Streams one client may have open towards the coordinator at once (its control stream is not counted);
    /// further opens wait for one to end. Broadcast memberships, brokering requests and counts each take one while
    /// they last. 1,024 bounds what one client can make the coordinator hold while leaving ample room for real use.
    /// </summary>
    public int MaxStreamsPerClient { get; set; } = 1024;

    /// <summary>
    /// Streams opened to the coordinator itself that may wait for <see cref="Coord.IncomingStreams"/> to take them
    /// (64 by default); past it, and whenever nothing reads <see cref="Coord.IncomingStreams"/>, such streams are
    /// refused at once with <see cref="ConecError.NotServed"/> instead of waiting for a reader that may never come.
    /// </summary>
    public int IncomingStreamBacklog { get; set; } = 64;

    /// <summary>
    /// Bytes one client may have in flight towards the coordinator on one stream before the stream's reader takes
    /// them: what a relayed stream holds on the coordinator while its receiver lags (1 MiB by default). The sender
    /// waits once it is reached, so back-pressure reaches it instead of the coordinator's memory.
    /// </summary>
    public int StreamBuffer { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes one client may have in flight towards the coordinator across all its streams (16 MiB by default): the
    /// most the coordinator buffers for one client's relayed and broadcast traffic together.
    /// </summary>
    public int ClientBuffer { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Broadcast memberships one client may hold at once; a further join is refused with
    /// <see cref="ConecError.LimitExceeded"/>. Each membership holds a queue on the coordinator, so this bounds what
    /// one client can make it keep; 256 leaves room for any real use.
    /// </summary>
    public int MaxBroadcastMembershipsPerClient { get; set; } = 256;

    /// <summary>
    /// Clients the coordinator holds at once, counting connections still in their handshake; a client beyond it is
    /// refused with <see cref="ConecError.CoordinatorFull"/>, a refusal a reconnecting client retries. Unset (the
    /// default), it is derived from the process's descriptor limit (<c>ulimit -n</c>), since every TCP client holds
    /// a descriptor: the limit less a reserve of 128 plus a sixteenth of it, less <see cref="MaxPendingHandshakes"/>
    /// (217 under a limit of 400, 728 under 1,024, 61,184 under 65,536); where no limit can be read (Windows), 10,000. See docs/scaling.md.
    /// </summary>
    public int? MaxClients { get; set; }

    /// <summary>
    /// Connections that may be in their TLS handshake at once, refused ones included; beyond it a new connection is
    /// closed at once, so a flood of half-open connections cannot take every descriptor. Unset (the default), an
    /// eighth of the descriptors <see cref="MaxClients"/> is derived from, between 8 and 128; 128 where no descriptor
    /// limit can be read.
    /// </summary>
    public int? MaxPendingHandshakes { get; set; }

    /// <summary>
    /// Makes this coordinator one node of a cluster (docs/cluster.md); <see langword="null"/> (the default) is a
    /// single coordinator, which needs nothing else.
    /// </summary>
    public ClusterConfig? Cluster { get; set; }

    /// <summary>Where the coordinator logs clients joining and leaving and every refusal with its reason.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Where the coordinator's metrics go: a "Conec" meter from this factory, so one coordinator's measurements can
    /// be told from the rest of the process. Unset (the default), they go to the process-wide "Conec" meter that
    /// every coordinator and client without a factory shares.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Throws <see cref="ConecException"/> with <see cref="ConecError.InvalidConfiguration"/> naming the first bad property.</summary>
    public void Validate()
    {
        Require(Port is >= 0 and <= 65535, nameof(Port), "must be between 0 and 65535");
        Require(Address is not null, nameof(Address), "is required");
        Require(Certificate is not null || CertificatePath is not null, nameof(Certificate), "or CertificatePath is required");
        Require(Certificate is null || CertificatePath is null, nameof(CertificatePath), "must not be set together with Certificate");
        Require(ClientAuthority is null || ClientAuthorityPath is null, nameof(ClientAuthorityPath), "must not be set together with ClientAuthority");
        Require(Enum.IsDefined(Transport), nameof(Transport), "is not a known transport mode");
        Require(IdleTimeout > TimeSpan.Zero, nameof(IdleTimeout), "must be positive");
        Require(HelloTimeout > TimeSpan.Zero, nameof(HelloTimeout), "must be positive");
        Require(MaxMessageSize is >= 0 and <= int.MaxValue - FrameLimits.HeaderSize, nameof(MaxMessageSize), "is out of range");
        Require(IncomingStreamBacklog >= 1, nameof(IncomingStreamBacklog), "must be at least 1");
        Require(MaxStreamsPerClient is >= 1 and < 1 << 24, nameof(MaxStreamsPerClient), "must be between 1 and 16,777,215");
        Require(MaxBroadcastMembershipsPerClient >= 1, nameof(MaxBroadcastMembershipsPerClient), "must be at least 1");
        Require(StreamBuffer >= 1024, nameof(StreamBuffer), "must be at least 1024 bytes");
        Require(ClientBuffer >= StreamBuffer, nameof(ClientBuffer), "must be at least StreamBuffer");
        Require(MaxClients is null or >= 1, nameof(MaxClients), "must be at least 1 (or unset, to derive it from the descriptor limit)");
        Require(MaxPendingHandshakes is null or >= 1, nameof(MaxPendingHandshakes), "must be at least 1 (or unset, to derive it)");
        Cluster?.Validate();
    }

    internal X509Certificate2 ResolveCertificate() =>
        Certificate ?? ConecCertificates.Load(CertificatePath!, KeyPath);

    internal X509Certificate2Collection? ResolveChain()
    {
        if (CertificateChain is not null || CertificatePath is null)
        {
            return CertificateChain;
        }

        // The file's first certificate is the leaf itself; the rest, if any, is the chain to send with it.
        var all = ConecCertificates.LoadChain(CertificatePath);
        if (all.Count <= 1)
        {
            return null;
        }

        all.RemoveAt(0);
        return all;
    }

    internal X509Certificate2? ResolveClientAuthority() =>
        ClientAuthority ?? (ClientAuthorityPath is null ? null : ConecCertificates.LoadChain(ClientAuthorityPath)[0]);

    private static void Require(bool condition, string property, string rule)
    {
        if (!condition)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"CoordConfig.{property} {rule}.");
        }
    }
}
