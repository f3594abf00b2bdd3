using System.Threading.Channels;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Typed;

/// <summary>Calls whose caller streams an argument (client streaming), and calls that stream both ways (duplex).</summary>
public sealed class StreamingCallTests
{
    private static async Task<(PipelineClient Client, PipelineService Service, Client Caller)> ServeAsync(TransportMode mode, Cluster cluster, RpcClientOptions? options, CancellationToken ct)
    {
        var caller = await cluster.ConnectAsync("caller");
        var callee = await cluster.ConnectAsync("callee");
        var service = new PipelineService();
        var pair = await caller.NewProxiedStreamAsync("callee", ct);
        _ = PipelineServer.ServeAsync(service, await Messages.NextAsync(callee.IncomingStreams, ct), ct);
        return (new PipelineClient(pair, options), service, caller);
    }

    [Theory, TransportModes]
    public async Task ClientStreamingSumsEveryItemAndDuplexAnswersEachItemBeforeTheNextIsSent(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, _, _) = await ServeAsync(mode, cluster, null, ct);
        await using var _ = pipeline;

        Assert.Equal(500_500, await pipeline.Sum(new Source().Items(i => i + 1, 1000), ct));
        Assert.Equal(0, await pipeline.Sum(new Source().Items(i => i, 0), ct));

        // Both directions at once: each answer arrives while the caller's sequence is still open.
        var numbers = Channel.CreateUnbounded<int>();
        await using var doubled = pipeline.Twice(numbers.Reader.ReadAllAsync(ct), ct).GetAsyncEnumerator(ct);
        for (var i = 1; i <= 5; i++)
        {
            await numbers.Writer.WriteAsync(i, ct);
            Assert.True(await doubled.MoveNextAsync());
            Assert.Equal(i * 2, doubled.Current);
        }

        numbers.Writer.Complete();
        Assert.False(await doubled.MoveNextAsync());
    }

    [Theory, TransportModes]
    public async Task AStreamedArgumentWaitsForTheServersCreditAndOtherCallsGoOn(TransportMode mode)
    {
        const int size = 16 * 1024;
        const int window = 64 * 1024;
        const int count = 200;
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(mode, cluster, new RpcClientOptions { StreamedResultWindow = window }, ct);
        await using var _ = pipeline;

        // The handler reads one chunk and pauses: the caller's sequence is read as far as the credit admits, then waits.
        var source = new Source();
        var collecting = pipeline.Collect("bulk", source.Items(i => Messages.Numbered(i, size), count), ct).AsTask();
        await service.ChunksRead.ReachedAsync(1).WaitAsync(ct);
        var bound = (window / size) + 2; // one window, the item that crossed it, and the one waiting for credit
        await source.Produced.ReachedAsync(bound - 2).WaitAsync(ct);
        Assert.False(await Timeouts.CompletesWithin(source.Produced.ReachedAsync(bound + 1), TimeSpan.FromMilliseconds(300)),
            $"The caller produced {source.Produced.Count} chunks for a server that read one.");

        // Another call on the same stream is not held up by the paused one.
        Assert.Equal("caller", await pipeline.Whoami().AsTask().WaitAsync(ct));

        service.ReadTheRest.SetResult();
        await collecting.WaitAsync(ct);
        Assert.Equal(count, service.ChunksRead.Count);
    }

    [Theory, TransportModes]
    public async Task CancellingACallStopsTheHandlerAndTheCallersSequence(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(mode, cluster, null, ct);
        await using var _ = pipeline;

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var source = new Source();
        await using var doubled = pipeline.Twice(source.Items(i => i), cancel.Token).GetAsyncEnumerator(cancel.Token);
        Assert.True(await doubled.MoveNextAsync());
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            while (await doubled.MoveNextAsync())
            {
            }
        });
        await service.HandlerCancelled.Task.WaitAsync(ct);
        await source.Stopped.Task.WaitAsync(ct);
        Assert.Equal(12, await pipeline.Sum(new Source().Items(i => i * 4, 3), ct)); // the stream serves on
    }

    [Theory, TransportModes]
    public async Task ARemoteExceptionEndsBothDirections(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, _, _) = await ServeAsync(mode, cluster, null, ct);
        await using var _ = pipeline;

        // The handler throws on the third item; the caller's endless sequence is stopped, and its reader gets the exception.
        var source = new Source();
        var read = new List<int>();
        var remote = await Assert.ThrowsAsync<ConecRemoteException>(async () =>
        {
            await foreach (var n in pipeline.Twice(source.Items(i => i < 2 ? i : -i), ct))
            {
                read.Add(n);
            }
        });
        Assert.Equal(("System.InvalidOperationException", "-2 is negative"), (remote.RemoteType, remote.Message));
        Assert.Equal([0, 2], read);
        await source.Stopped.Task.WaitAsync(ct);
        Assert.Equal(3, await pipeline.Sum(new Source().Items(i => i, 3), ct));
    }

    [Theory, TransportModes]
    public async Task AServerThatStopsReadingStopsTheCallersSequence(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(mode, cluster, null, ct);
        await using var _ = pipeline;

        // The handler reads two items and stops reading, but has not answered yet: the caller stops sending all the same.
        var source = new Source();
        var taking = pipeline.TakeTwo(source.Items(i => i + 10), ct).AsTask();
        await source.Stopped.Task.WaitAsync(ct);
        Assert.False(taking.IsCompleted);
        service.AnswerTakeTwo.SetResult();
        Assert.Equal(21, await taking.WaitAsync(ct));
    }

    [Theory, TransportModes]
    public async Task ACallersFailingSequenceFailsTheCallWithItsExceptionAndCancelsTheHandler(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(mode, cluster, null, ct);
        await using var _ = pipeline;

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipeline.Sum(new Source().Items(i => i, failAt: 3), ct));
        Assert.Equal("the source broke", failed.Message);
        await service.HandlerCancelled.Task.WaitAsync(ct);
    }
}
