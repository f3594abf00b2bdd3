using System.Diagnostics;
using System.Net;
using Conec.Tests.Coordination;
using Conec.Tests.Processes;
using Conec.Tests.Transport;

namespace Conec.Tests.Reliability;

/// <summary>
/// A coordinator in its own network namespace, reached over a veth link with 20 ms of delay each way and 2% packet
/// loss in both directions: proxied streams and broadcasts still deliver every message intact, in order, once.
/// </summary>
public sealed class ImpairedNetworkTests : IDisposable
{
    private const string Netem = "delay 20ms 5ms loss 2%";
    private const int Count = 400;
    private const int Size = 4 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-netem-").FullName;

    [Theory, TransportModes]
    public async Task EveryMessageCrossesALossySlowLinkIntactAndInOrder(TransportMode mode)
    {
        var (link, unavailable) = ImpairedLink.TryCreate(Netem);
        if (link is null)
        {
            Assert.Skip($"No impaired link on this machine: {unavailable}");
        }

        using var _ = link;
        var ct = Timeouts.Token(TimeSpan.FromSeconds(120));
        await using var coord = await CoordProcess.StartAsync(_directory, mode, link.InsideAddress, 0, ct,
            command => ProcessRunner.StartCommand("ip", ["netns", "exec", link.Name, .. command]));
        var endPoint = coord.EndPoint;

        await using var sender = await Client.ConnectAsync(Config("sender", mode, endPoint), ct);
        await using var echoer = await Client.ConnectAsync(Config("echoer", mode, endPoint), ct);
        var pair = await sender.NewProxiedStreamAsync("echoer", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(echoer.IncomingStreams, ct), ct);

        // The link really is slow: one round trip through the coordinator crosses it four times.
        var clock = Stopwatch.StartNew();
        await Messages.AssertEchoAsync(pair, Messages.Numbered(-1, 16), ct);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(60), $"A relayed round trip took {clock.Elapsed.TotalMilliseconds:0} ms; the impairment is not in the path.");

        // Proxied: the sender streams numbered messages while reading their echoes; each must come back intact, in order.
        // Both join before either gives up a direction: a channel ends when no writer or no reader is left in it.
        var (echoerWrites, broadcastReceive) = await echoer.NewBroadcastAsync("telemetry", cancellationToken: ct);
        var (broadcastSend, ownCopies) = await sender.NewBroadcastAsync("telemetry", cancellationToken: ct);
        await echoerWrites.FinishAsync(ct); // the echoer only listens
        await ownCopies.DisposeAsync();     // the sender only sends, so its own copies never hold the echoer back
        var sending = Task.Run(async () =>
        {
            for (var sequence = 0; sequence < Count; sequence++)
            {
                await pair.Send.SendAsync(Messages.Numbered(sequence, Size), ct);
                await broadcastSend.SendAsync(Messages.Numbered(sequence, Size / 4), ct);
            }

            await pair.Send.FinishAsync(ct);
            await broadcastSend.FinishAsync(ct);
        }, ct);
        var hearing = Task.Run(async () =>
        {
            // Read concurrently: under the default Wait policy an unread broadcast would hold the sender back.
            var heard = 0;
            await foreach (var message in new TaggedBroadcastInStream(broadcastReceive).WithCancellation(ct))
            {
                Assert.Equal(("sender", 0L, heard++), (message.Sender, message.LostBefore, Messages.SequenceOf(message.Payload.Span)));
            }

            return heard;
        }, ct);
        var expected = 0;
        while (await pair.Receive.ReadAsync(ct) is { } echoed)
        {
            Assert.Equal((expected++, Size), (Messages.SequenceOf(echoed), echoed.Length));
        }

        var heard = await hearing.WaitAsync(ct);
        await sending;
        await echo;
        Assert.Equal((Count, Count), (expected, heard));
    }

    private static ClientConfig Config(string id, TransportMode mode, IPEndPoint coordinator) => new(id, "localhost")
    {
        CoordinatorEndPoint = coordinator,
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = mode,
    };

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
