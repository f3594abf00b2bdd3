using System.CommandLine;

namespace Conec.Cli;

/// <summary>`conec coord`'s cluster flags (docs/cluster.md): with <c>--cluster</c>, the coordinator is one node of a cluster.</summary>
internal sealed class ClusterOptions
{
    private readonly Option<string?> _redis = new("--cluster") { Description = "Join the cluster whose directory is this Redis (a StackExchange.Redis configuration string, or a unix socket path)." };
    private readonly Option<string?> _nodeId = new("--node-id") { Description = "This node's id in the cluster, a DNS name its node certificate is valid for." };
    private readonly Option<FileInfo?> _nodeCert = new("--node-cert") { Description = "The node certificate (PEM), signed by the node CA." };
    private readonly Option<FileInfo?> _nodeKey = new("--node-key") { Description = "The node certificate's private key (PEM)." };
    private readonly Option<FileInfo?> _nodeCa = new("--node-ca") { Description = "The node CA: links are accepted from, and made to, nodes it signed." };
    private readonly Option<int> _linkPort = new("--link-port") { Description = "The port other nodes link to.", DefaultValueFactory = _ => 1720, CustomParser = OptionParsers.Number("--link-port") };
    private readonly Option<string?> _advertise = new("--advertise") { Description = "The host name or address other nodes dial (by default the listen address, or the node id)." };
    private readonly Option<double> _lease = new("--lease") { Description = "Seconds a node's lease lasts unless renewed: how long a dead node's clients wait.", DefaultValueFactory = _ => 5 };

    public static ClusterOptions Create() => new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _redis, _nodeId, _nodeCert, _nodeKey, _nodeCa, _linkPort, _advertise, _lease })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The cluster configuration the flags give, or null without <c>--cluster</c> (a single coordinator).</summary>
    public ClusterConfig? Read(ParseResult result)
    {
        if (result.GetValue(_redis) is not { } redis)
        {
            return null;
        }

        return new ClusterConfig
        {
            Redis = redis,
            NodeId = result.GetValue(_nodeId) ?? "",
            CertificatePath = result.GetValue(_nodeCert)?.FullName,
            KeyPath = result.GetValue(_nodeKey)?.FullName,
            AuthorityPath = result.GetValue(_nodeCa)?.FullName,
            LinkPort = result.GetValue(_linkPort),
            AdvertisedHost = result.GetValue(_advertise),
            LeaseTime = TimeSpan.FromSeconds(result.GetValue(_lease)),
        }.UseRedisDirectory();
    }
}
