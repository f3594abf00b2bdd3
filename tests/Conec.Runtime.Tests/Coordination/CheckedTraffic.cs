namespace Conec.Tests.Coordination;

/// <summary>
/// Two well-behaved clients exchanging numbered, checked messages through the coordinator in the background, so
/// an adversarial test can show that the coordinator kept serving them without loss or corruption.
/// </summary>
internal sealed class CheckedTraffic
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<int> _loop;
    private readonly Task _echo;

    private CheckedTraffic(StreamPair pair, IncomingStream incoming, CancellationToken cancellationToken)
    {
        _echo = Messages.EchoAsync(incoming, cancellationToken);
        _loop = Task.Run(() => RunAsync(pair, cancellationToken), cancellationToken);
    }

    public static async Task<CheckedTraffic> StartAsync(Cluster cluster, CancellationToken cancellationToken)
    {
        var sender = await cluster.ConnectAsync("good1");
        var echoer = await cluster.ConnectAsync("good2");
        var pair = await sender.NewProxiedStreamAsync("good2", cancellationToken);
        var incoming = await Messages.NextAsync(echoer.IncomingStreams, cancellationToken);
        return new CheckedTraffic(pair, incoming, cancellationToken);
    }

    /// <summary>Stops, and asserts that every message came back intact and in order; returns how many did.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        var exchanged = await _loop;
        await _echo;
        Assert.True(exchanged > 0, "The well-behaved clients exchanged nothing.");
        return exchanged;
    }

    private async Task<int> RunAsync(StreamPair pair, CancellationToken cancellationToken)
    {
        var sequence = 0;
        while (!_stop.IsCancellationRequested)
        {
            var message = Messages.Numbered(sequence, 1024);
            await pair.Send.SendAsync(message, cancellationToken);
            var echoed = await pair.Receive.ReadAsync(cancellationToken);
            Assert.NotNull(echoed);
            Assert.Equal(sequence, Messages.SequenceOf(echoed));
            sequence++;
        }

        await pair.Send.FinishAsync(cancellationToken);
        Assert.Null(await pair.Receive.ReadAsync(cancellationToken));
        return sequence;
    }
}
