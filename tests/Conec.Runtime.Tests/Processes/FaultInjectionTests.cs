using Conec.Protocol;
using Conec.Tests.Coordination;

namespace Conec.Tests.Processes;

/// <summary>A client in another process is killed mid-transfer: its peer learns at once, the coordinator forgets it, others carry on.</summary>
public sealed class FaultInjectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-fault-").FullName;

    [Fact]
    public async Task AKilledClientProcessFailsItsStreamsPromptlyAndCostsNobodyElse()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var authority = Path.Combine(_directory, "coordinator.pem");
        ConecCertificates.Save(TestCertificates.Server, authority);
        var traffic = await CheckedTraffic.StartAsync(cluster, ct);
        var sender = await cluster.ConnectAsync("sender");

        // The victim is a real `conec chat` process; it never reads the stream sent to it, so the sender is mid-transfer.
        await using var victim = ProcessRunner.Start(ProcessRunner.Program("src/Conec.Cli", "conec"),
            "chat", "--id", "victim", "--coord", $"localhost:{cluster.EndPoint.Port}", "--ca", authority);
        await victim.WaitForOutputAsync("Joined lobby as victim", ct);
        Assert.Equal(4, cluster.Coord.ClientCount);
        var (send, _) = await sender.NewProxiedStreamAsync("victim", ct);
        var sent = 0;
        Task pending;
        while (true)
        {
            pending = send.SendAsync(Messages.Numbered(sent, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++sent < 4096, "The victim never applied back-pressure.");
        }

        victim.Kill();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var failed = await Assert.ThrowsAsync<ConecException>(() => pending.WaitAsync(ct));
        Assert.Equal((ConecError.StreamStopped, ProtocolCodes.StreamPeerLost), (failed.Error, failed.ApplicationErrorCode ?? -1));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The blocked send failed only after {clock.Elapsed}.");
        await cluster.WaitForClientCountAsync(3, TimeSpan.FromSeconds(5));

        // The well-behaved pair exchanged checked messages throughout, and still does.
        Assert.True(await traffic.StopAsync() > 0);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
