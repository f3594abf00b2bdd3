using System.Net;
using Conec.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conec.Tests.Clustering;

/// <summary>A hosted coordinator whose cluster comes from configuration joins the cluster with AddConecRedisDirectory.</summary>
[Trait("Category", "Cluster")]
public sealed class HostedNodeTests
{
    [Fact]
    public async Task A_coordinator_bound_from_configuration_is_a_node_of_the_cluster_its_section_names()
    {
        await using var redis = await RedisServer.StartAsync();
        var folder = Directory.CreateTempSubdirectory("conec-hosted-node-").FullName;
        try
        {
            var ct = Timeouts.Token();
            ConecCertificates.Save(TestCertificates.Server, Path.Combine(folder, "coord.pem"), Path.Combine(folder, "coord.key"));
            ConecCertificates.Save(NodeSet.NodeCertificate("node7"), Path.Combine(folder, "node.pem"), Path.Combine(folder, "node.key"));
            ConecCertificates.Save(NodeSet.Authority, Path.Combine(folder, "nodes.pem"), Path.Combine(folder, "nodes.key"));
            var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Address"] = "127.0.0.1",
                ["Port"] = "0",
                ["Transport"] = "Tcp",
                ["CertificatePath"] = Path.Combine(folder, "coord.pem"),
                ["KeyPath"] = Path.Combine(folder, "coord.key"),
                ["Cluster:Redis"] = redis.Configuration,
                ["Cluster:NodeId"] = "node7",
                ["Cluster:LinkPort"] = "0",
                ["Cluster:CertificatePath"] = Path.Combine(folder, "node.pem"),
                ["Cluster:KeyPath"] = Path.Combine(folder, "node.key"),
                ["Cluster:AuthorityPath"] = Path.Combine(folder, "nodes.pem"),
            }).Build();
            var builder = Host.CreateApplicationBuilder();
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
            builder.Services.AddConecCoordinator(section).AddConecRedisDirectory();
            using var host = builder.Build();
            await host.StartAsync(ct);
            var hosted = host.Services.GetRequiredService<ConecCoordinatorService>().Coord;

            // A node of the cluster: an id held on this node is refused on another node of the same Redis.
            await using var other = await NodeSet.StartAsync(TransportMode.Tcp, 1, redis);
            await using var alice = await Client.ConnectAsync(Config("alice", hosted.LocalEndPoint.Port), ct);
            var twin = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(Config("alice", other[0].LocalEndPoint.Port), ct));
            Assert.Equal(ConecError.IdInUse, twin.Error);
            Assert.Contains("node7", twin.Message, StringComparison.Ordinal);
            await host.StopAsync(ct);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static ClientConfig Config(string id, int port) => new(id, "localhost")
    {
        CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, port),
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = TransportMode.Tcp,
    };
}
