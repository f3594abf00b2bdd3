using System.Net;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Processes;

/// <summary>
/// The coordinator process is killed mid-transfer and started again: clients with reconnection on come back and
/// re-join their broadcast, and sequence numbers show exactly what was delivered, what was not, and that the
/// application can resume without a gap or a duplicate.
/// </summary>
public sealed class CoordinatorRestartTests : IDisposable
{
    // 16 MB in all: several flow-control windows, so the producer is blocked mid-transfer when the coordinator dies.
    private const int Total = 2_000;
    private const int MessageSize = 8 * 1024;
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-restart-").FullName;

    [Theory, TransportModes]
    public async Task AKilledCoordinatorLosesOnlyATailThatBothSidesCanSee(TransportMode mode)
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        await using var first = await CoordProcess.StartAsync(_directory, mode, IPAddress.Loopback, 0, ct);
        var port = first.EndPoint.Port;
        await using var producer = await Client.ConnectAsync(Config("producer", mode, port), ct);
        await using var consumer = await Client.ConnectAsync(Config("consumer", mode, port), ct);
        var producerBack = Reconnected(producer);
        var consumerBack = Reconnected(consumer);
        var (ticks, _) = await producer.NewBroadcastAsync("ticks", cancellationToken: ct);
        var (_, heard) = await consumer.NewBroadcastAsync("ticks", cancellationToken: ct);
        var (stream, _) = await producer.NewProxiedStreamAsync("consumer", ct);
        var incoming = await Messages.NextAsync(consumer.IncomingStreams, ct);

        // Phase 1: numbered messages on a proxied stream and on the broadcast until the coordinator dies.
        var received = new List<int>();
        var broadcastReceived = new List<int>();
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var receiving = ReadUntilFailureAsync(incoming.Receive, received, paused, killed.Task, ct);
        var hearing = ReadBroadcastUntilFailureAsync(new TaggedBroadcastInStream(heard), broadcastReceived, ct);
        var sending = SendUntilFailureAsync(stream, ticks, ct);

        // The consumer pauses after 100 messages, so flow control holds the producer back mid-transfer.
        await paused.Task.WaitAsync(ct);
        first.Kill(); // SIGKILL: no CLOSE frame, no goodbye
        killed.SetResult();

        var (sent, broadcastSent, sendError) = await sending.WaitAsync(ct);
        var receiveError = await receiving.WaitAsync(ct);
        var hearError = await hearing.WaitAsync(ct);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{mode}: {sent} stream and {broadcastSent} broadcast sends completed, {received.Count} delivered on the stream, {broadcastReceived.Count} on the broadcast before the kill.");

        // Nothing was misordered, duplicated or skipped: what arrived is exactly messages 0..k-1 of what was sent.
        Assert.Equal(Enumerable.Range(0, received.Count), received);
        Assert.Equal(Enumerable.Range(0, broadcastReceived.Count), broadcastReceived);
        Assert.InRange(sent, 100, Total - 1);
        Assert.InRange(received.Count, 100, sent);
        Assert.InRange(broadcastReceived.Count, 0, broadcastSent);

        // And the loss is never silent: a coordinator's death is an error on every side, never a clean end.
        Assert.NotNull(sendError);
        Assert.Contains(receiveError.Error, LostConnection);
        Assert.Contains(hearError.Error, LostConnection);

        // Phase 2: a new coordinator on the same port; both clients come back by themselves, in the broadcast.
        await using var second = await CoordProcess.StartAsync(_directory, mode, IPAddress.Loopback, port, ct);
        var producerRejoined = Assert.Single((await producerBack.Task.WaitAsync(ct)).Broadcasts);
        var consumerRejoined = Assert.Single((await consumerBack.Task.WaitAsync(ct)).Broadcasts);
        Assert.Equal(("ticks", "ticks"), (producerRejoined.Channel, consumerRejoined.Channel));

        // The application resumes from what the consumer holds: every message then arrives exactly once.
        var resumeFrom = received.Count;
        var (resumed, _) = await producer.NewProxiedStreamAsync("consumer", ct);
        var resumedIncoming = await Messages.NextAsync(consumer.IncomingStreams, ct);
        var restBroadcast = new TaggedBroadcastInStream(consumerRejoined.Pair.Receive);
        var draining = Task.Run(async () =>
        {
            await foreach (var message in resumedIncoming.Receive.WithCancellation(ct))
            {
                received.Add(Messages.SequenceOf(message.Span));
            }
        }, ct);
        for (var sequence = resumeFrom; sequence < Total; sequence++)
        {
            await resumed.SendAsync(Messages.Numbered(sequence, MessageSize), ct);
        }

        await producerRejoined.Pair.Send.SendAsync(Messages.Numbered(Total, MessageSize), ct);
        await resumed.FinishAsync(ct);
        await draining.WaitAsync(ct);
        Assert.Equal(Enumerable.Range(0, Total), received);
        var afterRestart = await restBroadcast.ReceiveAsync(ct);
        Assert.Equal(("producer", Total), (afterRestart?.Sender, Messages.SequenceOf(afterRestart!.Value.Payload.Span)));
    }

    private static readonly ConecError[] LostConnection = [ConecError.ConnectionLost, ConecError.ConnectionClosed, ConecError.ConnectionAborted, ConecError.ConnectionIdle];

    // Counts each direction on its own: message k can be out on the stream while its broadcast copy fails.
    private static async Task<(int OnStream, int OnBroadcast, Exception? Error)> SendUntilFailureAsync(OutStream stream, OutStream broadcast, CancellationToken ct)
    {
        var onStream = 0;
        var onBroadcast = 0;
        try
        {
            while (onStream < Total)
            {
                var message = Messages.Numbered(onStream, MessageSize);
                await stream.SendAsync(message, ct);
                onStream++;
                await broadcast.SendAsync(message, ct);
                onBroadcast++;
            }

            return (onStream, onBroadcast, null);
        }
        catch (ConecException e)
        {
            return (onStream, onBroadcast, e);
        }
    }

    private static async Task<ConecException> ReadUntilFailureAsync(InStream stream, List<int> received, TaskCompletionSource paused, Task resume, CancellationToken ct)
    {
        try
        {
            while (await stream.ReadAsync(ct) is { } message)
            {
                received.Add(Messages.SequenceOf(message));
                if (received.Count == 100)
                {
                    paused.TrySetResult();
                    await resume.WaitAsync(ct);
                }
            }

            throw new InvalidOperationException($"The stream ended cleanly after {received.Count} messages although the coordinator died.");
        }
        catch (ConecException e)
        {
            paused.TrySetException(e);
            return e;
        }
    }

    private static async Task<ConecException> ReadBroadcastUntilFailureAsync(TaggedBroadcastInStream broadcast, List<int> received, CancellationToken ct)
    {
        try
        {
            while (await broadcast.ReceiveAsync(ct) is { } message)
            {
                Assert.Equal(("producer", 0L), (message.Sender, message.LostBefore));
                var sequence = Messages.SequenceOf(message.Payload.Span);
                if (sequence < Total)
                {
                    received.Add(sequence);
                }
            }

            throw new InvalidOperationException("The broadcast ended cleanly although the coordinator died.");
        }
        catch (ConecException e)
        {
            return e;
        }
    }

    private static TaskCompletionSource<ReconnectedEventArgs> Reconnected(Client client)
    {
        var back = new TaskCompletionSource<ReconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Reconnected += (_, e) => back.TrySetResult(e);
        return back;
    }

    private static ClientConfig Config(string id, TransportMode mode, int port) => new(id, "localhost")
    {
        CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, port),
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = mode,
        IdleTimeout = TimeSpan.FromSeconds(3),
        Reconnect = new ReconnectPolicy { Enabled = true, InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(250) },
    };

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
