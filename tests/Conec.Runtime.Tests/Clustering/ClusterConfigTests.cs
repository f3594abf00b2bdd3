using System.Net;
using Microsoft.Extensions.Configuration;

namespace Conec.Tests.Clustering;

/// <summary>The cluster's options validate like every other option, naming the bad property; none of these needs Redis.</summary>
public sealed class ClusterConfigTests
{
    public static TheoryData<string, string> BadOptions => new()
    {
        { "Redis", "CoordConfig.Cluster.Redis is required" },
        { "Directory", "CoordConfig.Cluster.Redis needs the directory of the Conec.Cluster.Redis package: call UseRedisDirectory()" },
        { "NodeId", "CoordConfig.Cluster.NodeId 'node 1' is not a DNS name" },
        { "Name", "CoordConfig.Cluster.Name must be" },
        { "LinkPort", "CoordConfig.Cluster.LinkPort must be between 0 and 65535" },
        { "Certificate", "CoordConfig.Cluster.Certificate or CertificatePath is required" },
        { "Authority", "CoordConfig.Cluster.Authority or AuthorityPath is required" },
        { "LeaseTime", "CoordConfig.Cluster.LeaseTime must be between 300 ms and 10 minutes" },
    };

    [Theory, MemberData(nameof(BadOptions))]
    public void EachBadOptionIsNamed(string option, string message)
    {
        var config = Valid();
        switch (option)
        {
            case "Redis": config.Cluster!.Redis = ""; break;
            case "Directory": config.Cluster = Valid(useRedis: false).Cluster; break;
            case "NodeId": config.Cluster!.NodeId = "node 1"; break;
            case "Name": config.Cluster!.Name = "a:b"; break;
            case "LinkPort": config.Cluster!.LinkPort = 70_000; break;
            case "Certificate": config.Cluster!.Certificate = null; break;
            case "Authority": config.Cluster!.Authority = null; break;
            default: config.Cluster!.LeaseTime = TimeSpan.FromMilliseconds(100); break;
        }

        var error = Assert.Throws<ConecException>(config.Validate);
        Assert.Equal(ConecError.InvalidConfiguration, error.Error);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASingleCoordinatorNeedsNoClusterAndAValidClusterPasses()
    {
        var single = Valid();
        single.Cluster = null;
        single.Validate();
        Valid().Validate();
    }

    [Fact]
    public async Task ANodeCertificateMustBeValidForTheNodeIdBeforeAnythingIsDialled()
    {
        var config = Valid();
        config.Cluster!.Certificate = NodeSet.NodeCertificate("node1");
        var error = await Assert.ThrowsAsync<ConecException>(() => Coord.StartAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.InvalidConfiguration, error.Error);
        Assert.Contains("CoordConfig.Cluster.Certificate", error.Message, StringComparison.Ordinal);
        Assert.Contains("'node0'", error.Message, StringComparison.Ordinal);

        // A self-signed certificate for the right name is not a node certificate either.
        config.Cluster.Certificate = ConecCertificates.CreateSelfSigned("node0");
        var selfSigned = await Assert.ThrowsAsync<ConecException>(() => Coord.StartAsync(config, Timeouts.Token()));
        Assert.Contains("not a node certificate", selfSigned.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheClusterBindsFromConfiguration()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Port"] = "1719",
            ["Cluster:Redis"] = "redis.example:6379",
            ["Cluster:NodeId"] = "node-a.example",
            ["Cluster:LinkPort"] = "7000",
            ["Cluster:LeaseTime"] = "00:00:03",
            ["Cluster:CertificatePath"] = "/etc/conec/node.pem",
            ["Cluster:AuthorityPath"] = "/etc/conec/nodes-ca.pem",
        }).Build();
        var config = section.Get<CoordConfig>()!;
        Assert.Equal(("redis.example:6379", "node-a.example", 7000, TimeSpan.FromSeconds(3)),
            (config.Cluster!.Redis, config.Cluster.NodeId, config.Cluster.LinkPort, config.Cluster.LeaseTime));
        Assert.Equal("/etc/conec/nodes-ca.pem", config.Cluster.AuthorityPath);
    }

    [Fact]
    public void AClientListsSeveralCoordinatorsOrOneButNotBoth()
    {
        var config = new ClientConfig("alice", "localhost") { CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, 1719) };
        config.CoordinatorEndPoints.Add(new IPEndPoint(IPAddress.Loopback, 1720));
        var error = Assert.Throws<ConecException>(config.Validate);
        Assert.StartsWith("ClientConfig.CoordinatorEndPoints must not be set together with CoordinatorEndPoint", error.Message, StringComparison.Ordinal);
        config.CoordinatorEndPoint = null;
        config.Validate();
    }

    private static CoordConfig Valid(bool useRedis = true)
    {
        var cluster = new ClusterConfig
        {
            Redis = "/nonexistent/redis.sock",
            NodeId = "node0",
            LinkPort = 0,
            Certificate = NodeSet.NodeCertificate("node0"),
            Authority = NodeSet.Authority,
        };
        return new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = TestCertificates.Server,
            Transport = TransportMode.Tcp,
            Cluster = useRedis ? cluster.UseRedisDirectory() : cluster,
        };
    }
}
