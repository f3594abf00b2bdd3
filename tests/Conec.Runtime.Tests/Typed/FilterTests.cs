using System.Collections.Concurrent;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;
using Conec.Typed.Internal;

namespace Conec.Tests.Typed;

/// <summary>Server and client filters: around every call, in order, seeing the caller, able to refuse; free when there are none.</summary>
public sealed class FilterTests
{
    /// <summary>Logs the call on the way in and out, with who called and how it ended.</summary>
    private sealed class Recording(string name, ConcurrentQueue<string> log) : IRpcServerFilter, IRpcClientFilter
    {
        public async ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner)
        {
            log.Enqueue($"{name}> {context.Method} by {context.Peer ?? "-"} server={context.IsServer} deadline={context.Deadline is not null}");
            try
            {
                await inner(context);
                log.Enqueue($"<{name} ok");
            }
            catch (Exception e)
            {
                log.Enqueue($"<{name} {e.GetType().Name}");
                throw;
            }
        }
    }

    /// <summary>Lets only <paramref name="admin"/> call <c>Slow</c>.</summary>
    private sealed class OnlyAdminMaySlow(string admin) : IRpcServerFilter, IRpcClientFilter
    {
        public ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner) =>
            context.Method == nameof(IPipeline.Slow) && context.Peer != admin
                ? throw new UnauthorizedAccessException($"{context.Peer ?? "this client"} may not call Slow")
                : inner(context);
    }

    private sealed class Forgetful : IRpcServerFilter
    {
        public ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner) => ValueTask.CompletedTask;
    }

    private sealed class PassThrough : IRpcServerFilter
    {
        public ValueTask InvokeAsync(RpcCallContext context, Func<RpcCallContext, ValueTask> inner) => inner(context);
    }

    [Theory, TransportModes]
    public async Task ServerFiltersRunInOrderAroundEveryCallSeeTheCallerAndCanRefuse(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var alice = await cluster.ConnectAsync("alice");
        var server = await cluster.ConnectAsync("server");
        var ct = Timeouts.Token();
        var log = new ConcurrentQueue<string>();
        var options = new RpcServerOptions();
        options.Filters.Add(new Recording("outer", log));
        options.Filters.Add(new Recording("inner", log));
        options.Filters.Add(new OnlyAdminMaySlow("admin"));
        var service = new PipelineService();
        var pair = await alice.NewProxiedStreamAsync("server", ct);
        _ = PipelineServer.ServeAsync(service, await Messages.NextAsync(server.IncomingStreams, ct), options, ct);
        await using var pipeline = new PipelineClient(pair);

        Assert.Equal("alice", await pipeline.Whoami());
        Assert.Equal(["outer> Whoami by alice server=True deadline=False", "inner> Whoami by alice server=True deadline=False", "<inner ok", "<outer ok"], log);

        // Refused by the caller's authenticated id: the handler never runs, the caller gets the filter's exception.
        log.Clear();
        var refused = await Assert.ThrowsAsync<ConecRemoteException>(async () => await pipeline.WithTimeout(TimeSpan.FromSeconds(10)).Slow(1, ct));
        Assert.Equal(("System.UnauthorizedAccessException", "alice may not call Slow"), (refused.RemoteType, refused.Message));
        Assert.Equal(["outer> Slow by alice server=True deadline=True", "inner> Slow by alice server=True deadline=True", "<inner UnauthorizedAccessException", "<outer UnauthorizedAccessException"], log);
        Assert.Equal(1, service.Handled);

        // A streamed call: the filters see the handler's whole run, through its last item.
        log.Clear();
        var numbers = System.Threading.Channels.Channel.CreateUnbounded<int>();
        await using var doubled = pipeline.Twice(numbers.Reader.ReadAllAsync(ct), ct).GetAsyncEnumerator(ct);
        await numbers.Writer.WriteAsync(21, ct);
        Assert.True(await doubled.MoveNextAsync());
        Assert.Equal(42, doubled.Current);
        Assert.Equal(2, log.Count); // both filters are in, neither is out: the handler still runs
        numbers.Writer.Complete();
        Assert.False(await doubled.MoveNextAsync());
        Assert.Equal("<outer ok", log.Last());
    }

    [Theory, TransportModes]
    public async Task AServerFilterThatDoesNotCallNextFailsTheCallClearly(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var options = new RpcServerOptions();
        options.Filters.Add(new Forgetful());
        var service = new PipelineService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = PipelineServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), options, ct);
        await using var pipeline = new PipelineClient(pair);

        var failed = await Assert.ThrowsAsync<ConecRemoteException>(async () => await pipeline.Whoami());
        Assert.Equal(typeof(InvalidOperationException).FullName, failed.RemoteType);
        Assert.Contains("without calling next", failed.Message, StringComparison.Ordinal);
        Assert.Equal(0, service.Handled);
    }

    [Theory, TransportModes]
    public async Task ClientFiltersWrapEveryCallIncludingStreamsAndCanRefuseBeforeSending(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var log = new ConcurrentQueue<string>();
        var options = new RpcClientOptions();
        options.Filters.Add(new Recording("client", log));
        options.Filters.Add(new OnlyAdminMaySlow("admin"));
        var service = new PipelineService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = PipelineServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await using var pipeline = new PipelineClient(pair, options);

        Assert.Equal("client1", await pipeline.Whoami());
        Assert.Equal(["client> Whoami by - server=False deadline=False", "<client ok"], log);

        // Refused before it is sent: the server never hears of it.
        log.Clear();
        await Assert.ThrowsAsync<UnauthorizedAccessException>(async () => await pipeline.Slow(1, ct));
        Assert.Equal(["client> Slow by - server=False deadline=False", "<client UnauthorizedAccessException"], log);
        Assert.Equal(1, service.Handled);

        // A streamed call ends for the filters when the caller's reading ends, here with the handler's exception.
        log.Clear();
        await using var doubled = pipeline.WithTimeout(TimeSpan.FromSeconds(10)).Twice(new Source().Items(i => i == 0 ? 1 : -1, 2), ct).GetAsyncEnumerator(ct);
        Assert.True(await doubled.MoveNextAsync());
        Assert.Equal(["client> Twice by - server=False deadline=True"], log);
        await Assert.ThrowsAsync<ConecRemoteException>(async () => await doubled.MoveNextAsync());
        Assert.Equal("<client ConecRemoteException", log.Last());
    }

    [Fact]
    public async Task AnEmptyServerFilterChainAllocatesNothingPerCall()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var request = new System.Buffers.ArrayBufferWriter<byte>();
        RpcFrame.WriteCall(request, 1, PipelineMethodIds.Whoami, PipelineCodec.NoArguments, notify: false);
        var frame = RpcFrame.Parse(request.WrittenMemory.ToArray());
        RpcCallHandler handler = static (_, _, _) => new ValueTask<RpcResult>(RpcResult.Void);

        long AllocatedPerCall(IRpcServerFilter[] filters)
        {
            using var session = new RpcServerSession(pair.Send, PipelineCodec.Contract, handler, "client1", filters, ct);
            var call = new RpcServerCall(session, frame, null);
            Assert.True(CompletedAtOnce(session.InvokeAsync(call, frame))); // warm: the path compiled, statics made
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                Assert.True(CompletedAtOnce(session.InvokeAsync(call, frame)));
            }

            var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
            call.Finish();
            return allocated;
        }

        static bool CompletedAtOnce(ValueTask<RpcResult> invoked) => invoked.IsCompletedSuccessfully && invoked.Result == RpcResult.Void;

        Assert.Equal(0, AllocatedPerCall([]));
        Assert.True(AllocatedPerCall([new PassThrough()]) > 0, "The measurement cannot see a filter chain's allocations.");
    }
}
