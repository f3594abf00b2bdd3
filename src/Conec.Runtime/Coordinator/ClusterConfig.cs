using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;
using Conec.Coordinator.Cluster;

namespace Conec;

/// <summary>
/// Makes a <see cref="Coord"/> one node of a cluster: coordinators that clients see as one (docs/cluster.md). The
/// directory of who is where lives in Redis; nodes carry streams to each other over links that node certificates
/// authenticate. Set it on <see cref="CoordConfig.Cluster"/>, then call <c>UseRedisDirectory()</c> from the
/// Conec.Cluster.Redis package, which provides the directory.
/// </summary>
public sealed class ClusterConfig
{
    /// <summary>
    /// The Redis server of the directory, as a StackExchange.Redis configuration string (<c>"redis.example:6379"</c>,
    /// <c>"/run/redis.sock"</c>, or with options such as <c>",password=…,ssl=true"</c>).
    /// </summary>
    public string Redis { get; set; } = "";

    /// <summary>
    /// This node's id, unique in the cluster: a DNS name, which <see cref="Certificate"/> must be valid for (other
    /// nodes check it when they dial this one).
    /// </summary>
    public string NodeId { get; set; } = "";

    /// <summary>
    /// The cluster's name, the prefix of every Redis key it uses ("conec" by default): clusters sharing one Redis
    /// need different names.
    /// </summary>
    public string Name { get; set; } = "conec";

    /// <summary>The address to accept links from other nodes on; by default <see cref="CoordConfig.Address"/>.</summary>
    public IPAddress? LinkAddress { get; set; }

    /// <summary>The port to accept links on (1720 by default, next to conec's 1719; 0 lets the OS choose).</summary>
    public int LinkPort { get; set; } = 1720;

    /// <summary>
    /// The host name or address other nodes dial to reach this node's links. By default the link address when it is
    /// a specific one, else <see cref="NodeId"/> (a DNS name that resolves to this node).
    /// </summary>
    public string? AdvertisedHost { get; set; }

    /// <summary>This node's certificate with its private key: valid for <see cref="NodeId"/>, signed by <see cref="Authority"/>.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>Path of the node certificate (PEM), used when <see cref="Certificate"/> is not set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Path of the node certificate's private key; may be the same file as <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The node CA: a link is accepted only from a node whose certificate it signed, and only to one.</summary>
    public X509Certificate2? Authority { get; set; }

    /// <summary>Path of the node CA certificate, used when <see cref="Authority"/> is not set.</summary>
    public string? AuthorityPath { get; set; }

    /// <summary>
    /// How long this node's lease in the directory lasts unless renewed (5 s by default; renewed every third of it,
    /// by Redis's clock). When a node dies, its clients can take their ids to another node once it lapses, so this
    /// bounds how long a failover waits; too short, and a pause of this node (or of Redis) costs it its clients.
    /// </summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Set by the directory's package (<c>UseRedisDirectory()</c>): how to reach the directory.</summary>
    internal Func<ClusterConfig, Microsoft.Extensions.Logging.ILogger, CancellationToken, Task<IClusterDirectory>>? DirectoryFactory { get; set; }

    /// <summary>Throws <see cref="ConecException"/> with <see cref="ConecError.InvalidConfiguration"/> naming the first bad property.</summary>
    public void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Redis), nameof(Redis), "is required");
        Require(DirectoryFactory is not null, nameof(Redis),
            "needs the directory of the Conec.Cluster.Redis package: call UseRedisDirectory() on the ClusterConfig");
        Require(DnsName.IsValid(NodeId), nameof(NodeId), $"'{NodeId}' is not a DNS name (letters, digits, '-' and '_' in dot-separated labels)");
        Require(!string.IsNullOrEmpty(Name) && Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), nameof(Name),
            "must be letters, digits, '-', '_' or '.'");
        Require(LinkPort is >= 0 and <= 65535, nameof(LinkPort), "must be between 0 and 65535");
        Require(AdvertisedHost is null || Uri.CheckHostName(AdvertisedHost) != UriHostNameType.Unknown, nameof(AdvertisedHost), "is not a host name or address");
        Require(Certificate is not null || CertificatePath is not null, nameof(Certificate), "or CertificatePath is required");
        Require(Certificate is null || CertificatePath is null, nameof(CertificatePath), "must not be set together with Certificate");
        Require(Authority is not null || AuthorityPath is not null, nameof(Authority), "or AuthorityPath is required");
        Require(Authority is null || AuthorityPath is null, nameof(AuthorityPath), "must not be set together with Authority");
        Require(LeaseTime >= TimeSpan.FromMilliseconds(300) && LeaseTime <= TimeSpan.FromMinutes(10), nameof(LeaseTime), "must be between 300 ms and 10 minutes");
    }

    internal X509Certificate2 ResolveCertificate() =>
        Certificate ?? ConecCertificates.Load(CertificatePath!, KeyPath);

    internal X509Certificate2 ResolveAuthority() =>
        Authority ?? ConecCertificates.LoadChain(AuthorityPath!)[0];

    private static void Require(bool condition, string property, string rule)
    {
        if (!condition)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"CoordConfig.Cluster.{property} {rule}.");
        }
    }
}
