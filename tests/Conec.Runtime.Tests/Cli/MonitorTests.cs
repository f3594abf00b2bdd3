using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Conec.Cli;
using Conec.Cli.Monitoring;
using Conec.Tests.Clustering;

namespace Conec.Tests.Cli;

/// <summary>`conec coord --monitor`: health, Prometheus metrics and JSON views of a running cluster, read over real HTTP.</summary>
[Trait("Category", "Cluster")]
public sealed class MonitorTests
{
    [Fact]
    public async Task TheMonitorShowsTheNodesThisNodesClientsAndBroadcastsWithMembersPerNode()
    {
        await using var nodes = await NodeSet.StartAsync(TransportMode.Tcp, 2);
        var ct = Timeouts.Token();
        await using var monitor = MonitorServer.Start(nodes[0], new HostAndPort("127.0.0.1", FreePort()));
        var alice = await nodes.ConnectAsync("alice", 0);
        await nodes.ConnectAsync("bob", 1);
        await alice.NewBroadcastAsync("room", cancellationToken: ct);
        await (await nodes.ConnectAsync("carol", 1)).NewBroadcastAsync("room", cancellationToken: ct);
        using var http = new HttpClient { BaseAddress = new Uri(monitor.Prefix) };

        Assert.Equal("ok\n", await http.GetStringAsync("/healthz", ct));

        var metrics = await http.GetStringAsync("/metrics", ct);
        Assert.Contains("# TYPE conec_streams_opened_total counter", metrics, StringComparison.Ordinal);
        Assert.Contains("conec_streams_opened_total{kind=\"broadcast\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("# TYPE conec_coordinator_capacity gauge", metrics, StringComparison.Ordinal);

        using var varz = JsonDocument.Parse(await http.GetStringAsync("/varz", ct));
        Assert.Equal("node0", varz.RootElement.GetProperty("node").GetString());
        Assert.Equal(1, varz.RootElement.GetProperty("clients").GetInt32());

        using var nodez = JsonDocument.Parse(await http.GetStringAsync("/nodez", ct));
        var listed = nodez.RootElement.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("id").GetString(), n.GetProperty("self").GetBoolean()));
        Assert.Equal([("node0", true), ("node1", false)], listed);

        using var connz = JsonDocument.Parse(await http.GetStringAsync("/connz", ct));
        Assert.Equal(["alice"], connz.RootElement.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("id").GetString()));

        using var subsz = JsonDocument.Parse(await http.GetStringAsync("/subsz", ct));
        var room = Assert.Single(subsz.RootElement.GetProperty("broadcasts").EnumerateArray());
        Assert.Equal(("room", 2, 2), (room.GetProperty("name").GetString(), room.GetProperty("senders").GetInt32(), room.GetProperty("receivers").GetInt32()));
        Assert.Equal(1, room.GetProperty("members").GetProperty("node0").GetInt32());
        Assert.Equal(1, room.GetProperty("members").GetProperty("node1").GetInt32());

        var missing = await http.GetAsync("/nothing", ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>HttpListener cannot take port 0: a port the kernel just handed out and released.</summary>
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
