using System.Diagnostics;
using System.Threading.Channels;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Typed;

/// <summary>Deadlines travel with calls as the time left: the handler's token fires then, and the caller gets DeadlineExceeded.</summary>
public sealed class DeadlineTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    private static async Task<(PipelineClient Client, PipelineService Service, IncomingStream Served)> ServeAsync(Cluster cluster, RpcClientOptions? options, CancellationToken ct)
    {
        var client = await cluster.ConnectAsync("client1");
        var service = new PipelineService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var served = await Messages.NextAsync(client.IncomingStreams, ct);
        _ = PipelineServer.ServeAsync(service, served, ct);
        return (new PipelineClient(pair, options), service, served);
    }

    [Theory, TransportModes]
    public async Task ACallPastItsDeadlineFailsWithDeadlineExceededAndTheHandlerSeesTheTimeLeft(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(cluster, null, ct);
        await using var _ = pipeline;

        var clock = Stopwatch.StartNew();
        var late = await Assert.ThrowsAsync<ConecException>(async () => await pipeline.WithTimeout(Short).Slow(60_000, ct));
        Assert.Equal(ConecError.DeadlineExceeded, late.Error);
        Assert.Contains("IPipeline.Slow", late.Message, StringComparison.Ordinal);
        Timeouts.AssertAfterTimeout(clock.Elapsed, Short, "The call failed");

        // The server got the time left, not a point in the caller's clock, and its handler's token fired at it.
        var left = await service.SlowTimeLeft.Task.WaitAsync(ct);
        Assert.InRange(left, TimeSpan.Zero, Short);
        await service.HandlerCancelled.Task.WaitAsync(ct);

        // The stream serves on, and a call without a deadline has none on the server.
        Assert.Equal(5, await pipeline.Slow(5, ct));
    }

    [Theory, TransportModes]
    public async Task TheDefaultDeadlineAppliesToEveryCallAndACallInTimeIsUntouched(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(cluster, new RpcClientOptions { DefaultDeadline = TimeSpan.FromSeconds(1) }, ct);
        await using var _ = pipeline;

        Assert.Equal(10, await pipeline.Slow(10, ct));
        Assert.NotNull((await service.SlowContext.Task.WaitAsync(ct))?.Deadline);
        var late = await Assert.ThrowsAsync<ConecException>(async () => await pipeline.Slow(60_000, ct));
        Assert.Equal(ConecError.DeadlineExceeded, late.Error);
    }

    [Theory, TransportModes]
    public async Task ADeadlineAlreadyPassedFailsAtOnceWithoutSendingTheCall(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(cluster, null, ct);
        await using var _ = pipeline;

        var late = await Assert.ThrowsAsync<ConecException>(async () => await pipeline.WithDeadline(DateTimeOffset.UtcNow.AddSeconds(-1)).Whoami());
        Assert.Equal(ConecError.DeadlineExceeded, late.Error);
        Assert.Equal("client1", await pipeline.Whoami());
        Assert.Equal(1, service.Handled); // only the second call reached the server
    }

    [Theory, TransportModes]
    public async Task AStreamedCallsDeadlineCoversTheWholeStream(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var (pipeline, service, _) = await ServeAsync(cluster, null, ct);
        await using var _ = pipeline;

        var numbers = Channel.CreateUnbounded<int>();
        await numbers.Writer.WriteAsync(1, ct);
        await using var doubled = pipeline.WithTimeout(Short).Twice(numbers.Reader.ReadAllAsync(ct), ct).GetAsyncEnumerator(ct);
        Assert.True(await doubled.MoveNextAsync());
        var late = await Assert.ThrowsAsync<ConecException>(async () => await doubled.MoveNextAsync());
        Assert.Equal(ConecError.DeadlineExceeded, late.Error);
        await service.HandlerCancelled.Task.WaitAsync(ct);
    }

    [Theory, TransportModes]
    public async Task TheServerAnswersDeadlineExceededWhenItsOwnTimerFiresFirst(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var service = new PipelineService();
        _ = PipelineServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), ct);

        // A hand-written caller that sets a deadline and does not enforce it: the server's answer is what it sees.
        var frame = new System.Buffers.ArrayBufferWriter<byte>();
        RpcFrame.WriteCall(frame, 1, PipelineMethodIds.Slow, PipelineCodec.EncodeSlow(60_000), notify: false, timeoutMilliseconds: 200);
        await pair.Send.SendAsync(frame.WrittenMemory, ct);
        var answer = RpcFrame.Parse(await pair.Receive.ReadAsync(ct) ?? throw new InvalidOperationException("The server ended the stream."));
        Assert.Equal(RpcFrame.Error, answer.Kind);
        var error = Assert.IsType<ConecException>(RpcFrame.ReadError(answer.Rest));
        Assert.Equal(ConecError.DeadlineExceeded, error.Error);
        await service.HandlerCancelled.Task.WaitAsync(ct);
    }

    [Fact]
    public async Task DeadlinesMustBePositive()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var client = await cluster.ConnectAsync("client1");
        var pair = await client.NewProxiedStreamAsync("client1", Timeouts.Token());
        var refused = Assert.Throws<ConecException>(() => new PipelineClient(pair, new RpcClientOptions { DefaultDeadline = TimeSpan.Zero }));
        Assert.Equal(ConecError.InvalidConfiguration, refused.Error);
        Assert.Contains(nameof(RpcClientOptions.DefaultDeadline), refused.Message, StringComparison.Ordinal);
        await using var pipeline = new PipelineClient(pair);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.WithTimeout(TimeSpan.FromSeconds(-1)));
    }
}
