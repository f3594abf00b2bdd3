using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Clustering;

/// <summary>A node tells the operator what it sees: its id, the cluster's nodes, and the clients of all of them.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterViewTests
{
    [Theory, TransportModes]
    public async Task A_node_names_itself_and_the_other_nodes_and_counts_every_nodes_clients(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var ct = Timeouts.Token();
        await nodes.ConnectAsync("alice", 0);
        await nodes.ConnectAsync("bob", 0);
        await nodes.ConnectAsync("carol", 1);

        Assert.Equal("node1", nodes[1].NodeId);
        Assert.Equal(["node0", "node1"], await nodes[1].GetClusterNodesAsync(ct));
        Assert.Equal(1, nodes[1].ClientCount);
        Assert.Equal(3, await nodes[1].GetClusterClientCountAsync(ct));
        Assert.Equal(3, await nodes[0].GetClusterClientCountAsync(ct));

        // A node that leaves cleanly leaves the view at once, and its clients with it.
        await nodes.StopNodeAsync(0);
        Assert.Equal(["node1"], await nodes[1].GetClusterNodesAsync(ct));
        Assert.Equal(1, await nodes[1].GetClusterClientCountAsync(ct));
    }

    [Theory, TransportModes]
    public async Task A_single_coordinator_is_its_own_view(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        await cluster.ConnectAsync("alice");
        var ct = Timeouts.Token();

        Assert.Null(cluster.Coord.NodeId);
        Assert.Empty(await cluster.Coord.GetClusterNodesAsync(ct));
        Assert.Equal(1, await cluster.Coord.GetClusterClientCountAsync(ct));
    }
}
