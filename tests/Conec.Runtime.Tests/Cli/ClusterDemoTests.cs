using Conec.Cli;

namespace Conec.Tests.Cli;

/// <summary>`conec demo --cluster` runs to its summary: a chat across three nodes that goes on after one of them stops.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterDemoTests
{
    [Fact]
    public async Task TheClusterDemoMovesAStoppedNodesClientsAndTheChatGoesOn()
    {
        if (LocalRedis.Locate() is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("CONEC_REQUIRE_REDIS") != "1", "redis-server is not installed, and CONEC_REQUIRE_REDIS=1 requires the cluster demo to run.");
            Assert.Skip("redis-server is not installed (Debian package redis-server).");
        }

        var output = new StringWriter();
        var summary = await ClusterDemo.RunAsync(output, Timeouts.Token(TimeSpan.FromSeconds(60)));

        var text = output.ToString();
        Assert.NotNull(summary);
        Assert.Contains("[lobby] carol: hi, I am carol on node2", text, StringComparison.Ordinal);
        Assert.Contains("carol reconnected to node", text, StringComparison.Ordinal);
        Assert.Contains("[lobby] frank: back, now on node", text, StringComparison.Ordinal);
        Assert.Contains("Summary:", text, StringComparison.Ordinal);
        Assert.Equal((6, 2, 9, new BroadcastCount(6, 6)), (summary.Clients, summary.Moved, summary.LinesHeard, summary.Lobby));
    }

    [Fact]
    public async Task WithoutRedisServerTheClusterDemoSaysHowToInstallIt()
    {
        var output = new StringWriter();
        Assert.Null(await ClusterDemo.RunAsync(output, program: null, Timeouts.Token()));

        Assert.Contains("apt-get install redis-server", output.ToString(), StringComparison.Ordinal);
        Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
