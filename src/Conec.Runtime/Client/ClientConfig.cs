using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;
using Conec.Protocol;
using Conec.Streams;
using Microsoft.Extensions.Logging;

namespace Conec;

/// <summary>
/// Who a <see cref="Client"/> is and how it reaches its coordinator. Certificates can be given as objects or as
/// file paths (PEM, or DER when the name ends in <c>.der</c>), so the class binds from configuration.
/// </summary>
public sealed class ClientConfig
{
    /// <summary>Creates an empty configuration; set <see cref="Id"/> and <see cref="CoordinatorHost"/> before connecting.</summary>
    public ClientConfig()
    {
    }

    /// <summary>Creates a configuration for client <paramref name="id"/> and the coordinator at <paramref name="coordinatorHost"/>.</summary>
    public ClientConfig(string id, string coordinatorHost)
    {
        Id = id;
        CoordinatorHost = coordinatorHost;
    }

    /// <summary>
    /// This client's id: unique among connected clients, a DNS name (it is the name in the client's certificate and
    /// the TLS server name peers dial for direct channels).
    /// </summary>
    public string Id { get; set; } = "";

    /// <summary>The coordinator's host name: resolved unless <see cref="CoordinatorEndPoint"/> is set, and always the name its certificate must prove.</summary>
    public string CoordinatorHost { get; set; } = "";

    /// <summary>The coordinator's port when its host name is resolved (conec's 1719 by default).</summary>
    public int CoordinatorPort { get; set; } = ProtocolConstants.DefaultPort;

    /// <summary>Dial this address instead of resolving <see cref="CoordinatorHost"/> (the certificate is still checked against the host name).</summary>
    public IPEndPoint? CoordinatorEndPoint { get; set; }

    /// <summary>
    /// Several coordinators of one cluster to dial, instead of <see cref="CoordinatorEndPoint"/> or resolving the
    /// host; each must prove <see cref="CoordinatorHost"/>. A connect starts at a random one (so clients spread over
    /// the nodes) and moves on to the next when one cannot be reached or answers <see cref="ConecError.ClusterUnavailable"/> or <see cref="ConecError.CoordinatorFull"/>,
    /// so a reconnect after a node dies finds another.
    /// </summary>
    public IList<IPEndPoint> CoordinatorEndPoints { get; } = new List<IPEndPoint>();

    /// <summary>An extra CA (or the coordinator's own self-signed certificate) to trust besides the system roots.</summary>
    public X509Certificate2? CoordinatorAuthority { get; set; }

    /// <summary>Path of <see cref="CoordinatorAuthority"/>, used when that is not set.</summary>
    public string? CoordinatorAuthorityPath { get; set; }

    /// <summary>Whether the system's root CAs vouch for the coordinator too (on by default; turn off to trust only <see cref="CoordinatorAuthority"/>).</summary>
    public bool TrustSystemRoots { get; set; } = true;

    /// <summary>The local address to connect from; by default the OS chooses. Its address family limits which resolved addresses are tried.</summary>
    public IPEndPoint? SourceEndPoint { get; set; }

    /// <summary>
    /// This client's certificate with its private key, valid for <see cref="Id"/>. When neither this nor
    /// <see cref="CertificatePath"/> is set, a self-signed certificate for the id is made at connect (conec's default).
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Path of the certificate file, used when <see cref="Certificate"/> is not set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Path of the private key file for <see cref="CertificatePath"/>; may be the same file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Accept direct channels from other clients (on by default, as in conec). A client that does not listen can still open them.</summary>
    public bool Listen { get; set; } = true;

    /// <summary>
    /// Where to accept direct channels; by default the local address this client uses towards the coordinator
    /// (<see cref="SourceEndPoint"/>'s if set), on a port the OS chooses, so the listener is not exposed on every
    /// interface. Peers are told the coordinator's view of this client's address with this port. Set
    /// <c>new IPEndPoint(IPAddress.Any, 0)</c> to accept on every interface.
    /// </summary>
    public IPEndPoint? ListenEndPoint { get; set; }

    /// <summary>
    /// The client CA for direct channels (conec's client-CA mode): peers must present certificates it signed, and
    /// this client trusts a peer's certificate through it. When unset, peers present self-signed certificates.
    /// </summary>
    public X509Certificate2? ClientAuthority { get; set; }

    /// <summary>Path of <see cref="ClientAuthority"/>, used when that is not set.</summary>
    public string? ClientAuthorityPath { get; set; }

    /// <summary>
    /// Keep the coordinator connection alive while idle (on by default, as in conec): a ping every third of
    /// <see cref="IdleTimeout"/>, so one lost ping never costs the connection.
    /// </summary>
    public bool KeepAlive { get; set; } = true;

    /// <summary>Whether to reconnect after losing the coordinator (off by default: conec's clients never reconnect).</summary>
    public ReconnectPolicy Reconnect { get; set; } = new();

    /// <summary>QUIC with a quick TCP fallback (<see cref="TransportMode.Auto"/>, the default), or one of them.</summary>
    public TransportMode Transport { get; set; } = TransportMode.Auto;

    /// <summary>
    /// A connection that carries nothing for this long is closed (30 s, as the coordinator's; conec's was 10 s);
    /// keep-alive prevents it while the peer lives, with a ping every 10 s by default.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The TLS handshake and the hello must finish within this time.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long <c>NewStreamAsync</c> waits for a direct channel before it returns a relayed stream instead (2 s by
    /// default): long enough for a TLS handshake across continents, short enough that a peer behind a firewall that
    /// drops packets does not hold the caller for the whole <see cref="ConnectTimeout"/>.
    /// </summary>
    public TimeSpan DirectAttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest message this client sends or accepts on its streams (8 MiB by default, as conec).</summary>
    public int MaxMessageSize { get; set; } = FrameLimits.DefaultMaxMessageSize;

    /// <summary>Where the client logs its connection and refused streams.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Where the client's metrics go: a "Conec" meter from this factory, so one client's measurements can be told
    /// from the rest of the process. Unset (the default), they go to the process-wide "Conec" meter that every
    /// coordinator and client without a factory shares.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Throws <see cref="ConecException"/> with <see cref="ConecError.InvalidConfiguration"/> naming the first bad property.</summary>
    public void Validate()
    {
        Require(DnsName.IsValid(Id), nameof(Id), $"'{Id}' is not a DNS name (letters, digits, '-' and '_' in dot-separated labels)");
        Require(!string.IsNullOrWhiteSpace(CoordinatorHost), nameof(CoordinatorHost), "is required");
        Require(CoordinatorPort is >= 1 and <= 65535, nameof(CoordinatorPort), "must be between 1 and 65535");
        Require(CoordinatorEndPoints.All(e => e is not null), nameof(CoordinatorEndPoints), "must not hold null");
        Require(CoordinatorEndPoint is null || CoordinatorEndPoints.Count == 0, nameof(CoordinatorEndPoints), "must not be set together with CoordinatorEndPoint");
        Require(Certificate is null || CertificatePath is null, nameof(CertificatePath), "must not be set together with Certificate");
        Require(CoordinatorAuthority is null || CoordinatorAuthorityPath is null, nameof(CoordinatorAuthorityPath), "must not be set together with CoordinatorAuthority");
        Require(ClientAuthority is null || ClientAuthorityPath is null, nameof(ClientAuthorityPath), "must not be set together with ClientAuthority");
        Require(Enum.IsDefined(Transport), nameof(Transport), "is not a known transport mode");
        Require(IdleTimeout > TimeSpan.Zero, nameof(IdleTimeout), "must be positive");
        Require(ConnectTimeout > TimeSpan.Zero, nameof(ConnectTimeout), "must be positive");
        Require(DirectAttemptTimeout > TimeSpan.Zero, nameof(DirectAttemptTimeout), "must be positive");
        Require(Reconnect is not null && Reconnect.InitialDelay > TimeSpan.Zero && Reconnect.MaxDelay >= Reconnect.InitialDelay,
            nameof(Reconnect), "needs a positive InitialDelay and a MaxDelay at least as long");
        Require(MaxMessageSize is >= 0 and <= int.MaxValue - FrameLimits.HeaderSize, nameof(MaxMessageSize), "is out of range");
    }

    internal X509Certificate2? ResolveCertificate() =>
        Certificate ?? (CertificatePath is null ? null : ConecCertificates.Load(CertificatePath, KeyPath));

    internal X509Certificate2? ResolveCoordinatorAuthority() =>
        CoordinatorAuthority ?? (CoordinatorAuthorityPath is null ? null : ConecCertificates.LoadChain(CoordinatorAuthorityPath)[0]);

    internal X509Certificate2? ResolveClientAuthority() =>
        ClientAuthority ?? (ClientAuthorityPath is null ? null : ConecCertificates.LoadChain(ClientAuthorityPath)[0]);

    private static void Require(bool condition, string property, string rule)
    {
        if (!condition)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"ClientConfig.{property} {rule}.");
        }
    }
}
