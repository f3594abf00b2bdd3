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

    private static Task<Coord> StartCoordAsync(TransportMode mode, int port, CancellationToken ct) => Coord.StartAsync(new CoordConfig
    {
        Address = IPAddress.Loopback,
        Port = port,
        Certificate = TestCertificates.Server,
        Transport = mode,
    }, ct);
}
