using System.Net;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Reliability;

/// <summary>A client with reconnection on survives a coordinator restart: same id, broadcasts re-joined, old streams failed clearly.</summary>
public sealed class ReconnectTests
{
    [Theory, TransportModes]
    public async Task AClientComesBackAfterTheCoordinatorRestarts(TransportMode mode)
    {
        var ct = Timeouts.Token();
        var first = await StartCoordAsync(mode, 0, ct);
        var port = first.LocalEndPoint.Port;
        var config = new ClientConfig("client1", "localhost")
        {
            CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, port),
            CoordinatorAuthority = TestCertificates.Server,
            TrustSystemRoots = false,
            Transport = mode,
            Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) },
        };
        await using var client = await Client.ConnectAsync(config, ct);
        var disconnected = new TaskCompletionSource<DisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource<ReconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Disconnected += (_, e) => disconnected.TrySetResult(e);
        client.Reconnected += (_, e) => reconnected.TrySetResult(e);
        var (_, oldRoom) = await client.NewBroadcastAsync("room", cancellationToken: ct);

        await first.DisposeAsync();
        var lost = await disconnected.Task.WaitAsync(ct);
        Assert.Equal(ConecError.ConnectionClosed, lost.Reason.Error);
        await Assert.ThrowsAsync<ConecException>(async () => await oldRoom.ReadAsync(ct));

        await using var second = await StartCoordAsync(mode, port, ct);
        var back = await reconnected.Task.WaitAsync(ct);
        Assert.Equal(1, second.ClientCount);
        var room = Assert.Single(back.Broadcasts);
        Assert.Equal("room", room.Channel);
        Assert.Equal(new BroadcastCount(1, 1), await client.GetBroadcastCountAsync("room", ct));

        // The client works as before, and the same incoming-stream sequence continues.
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [1, 2, 3], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
        Assert.False(client.Completion.IsCompleted);
    }

    [Fact]
    public void AFullCoordinatorIsATransientRefusal()
    {
        Assert.False(ReconnectPolicy.IsPermanent(ConecError.CoordinatorFull));
        Assert.False(ReconnectPolicy.IsPermanent(ConecError.ConnectionLost));
        Assert.True(ReconnectPolicy.IsPermanent(ConecError.HandshakeFailed));
    }

    [Fact]
    public async Task AReconnectingClientRetriesAFullCoordinatorUntilAPlaceFrees()
    {
        var ct = Timeouts.Token();
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c => c.MaxClients = 1);
        await using var gate = new TcpGate(cluster.EndPoint);
        using var log = new CapturingLoggerFactory();
        var config = cluster.ClientConfig("roamer");
        config.CoordinatorEndPoint = gate.EndPoint;
        config.LoggerFactory = log;
        config.Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(200) };
        await using var roamer = await Client.ConnectAsync(config, ct);
        var reconnected = new TaskCompletionSource<ReconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        roamer.Reconnected += (_, e) => reconnected.TrySetResult(e);

        // The roamer loses its connection, and while it cannot get through, another client takes the one place.
        gate.Close();
        await cluster.WaitForClientCountAsync(0);
        var occupant = await Coordination.CapacityTests.ConnectWhenRoomAsync(cluster.ClientConfig("occupant"), ct);
        gate.Open();

        // Now it reaches a full coordinator: it is told so, and keeps trying rather than giving up.
        Assert.Contains("the coordinator is full", await log.WaitForAsync(3008, "CoordConfig.MaxClients"), StringComparison.Ordinal);
        Assert.False(roamer.Completion.IsCompleted);
        Assert.False(reconnected.Task.IsCompleted);

        await occupant.DisposeAsync();
        var back = await reconnected.Task.WaitAsync(ct);
        Assert.True(back.Attempts > 1, $"Reconnected after {back.Attempts} attempt(s).");
        Assert.Equal(1, cluster.Coord.ClientCount);
        Assert.False(roamer.Completion.IsCompleted);
    }

    private static Task<Coord> StartCoordAsync(TransportMode mode, int port, CancellationToken ct) => Coord.StartAsync(new CoordConfig
    {
        Address = IPAddress.Loopback,
        Port = port,
        Certificate = TestCertificates.Server,
        Transport = mode,
    }, ct);
}
