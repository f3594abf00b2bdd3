using Conec.Tests.Coordination;
using Conec.Tests.Transport;
using Conec.Typed.Internal;

namespace Conec.Tests.Typed;

/// <summary>A streamed result waits for its caller: a paused reader holds one window, and other calls go on meanwhile.</summary>
public sealed class RpcBackPressureTests
{
    private const int Size = 16 * 1024;
    private const int Window = 64 * 1024;


    [Theory, TransportModes]
    public async Task APausedReaderStallsItsCallOnlyAndResumesWithEveryItemInOrder(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var service = new FloodService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = FloodServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), cancellationToken: ct);
        // Through the generated client, as users set the window.
        await using var flood = new FloodClient(pair, new RpcClientOptions { StreamedResultWindow = Window });

        const int count = 1000;
        await using var items = flood.Flood(count, Size, ct).GetAsyncEnumerator(ct);
        Assert.True(await items.MoveNextAsync());

        // The caller reads nothing more: the server produces what the window admits, then waits.
        // One window of items plus one, and the one the handler holds while it waits for credit.
        var bound = (Window / Size) + 2;
        await service.ProducedAsync(bound - 1).WaitAsync(ct);
        Assert.False(await Timeouts.CompletesWithin(service.ProducedAsync(bound + 1), TimeSpan.FromMilliseconds(300)),
            $"The server produced {service.Produced} items for a caller that read one.");

        // Another call on the same stream is not held up by the paused one.
        Assert.Equal(7, await flood.Ping(7).AsTask().WaitAsync(ct));

        // Reading again: every item arrives, in order.
        var expected = 0;
        do
        {
            Assert.Equal(expected++, Messages.SequenceOf(items.Current));
        }
        while (await items.MoveNextAsync());

        Assert.Equal(count, expected);
    }

    [Fact]
    public async Task AGeneratedClientRefusesInvalidOptionsNamingTheProperty()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var client = await cluster.ConnectAsync("client1");
        var pair = await client.NewProxiedStreamAsync("client1", Timeouts.Token());
        var refused = Assert.Throws<ConecException>(() => new FloodClient(pair, new RpcClientOptions { MaxQueuedCalls = 0 }));
        Assert.Equal(ConecError.InvalidConfiguration, refused.Error);
        Assert.Contains(nameof(RpcClientOptions.MaxQueuedCalls), refused.Message, StringComparison.Ordinal);
    }

    [Theory, TransportModes]
    public async Task AServerThatIgnoresCreditFailsTheCallInsteadOfFillingTheCallersMemory(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var server = await Messages.NextAsync(client.IncomingStreams, ct);
        await using var rpc = new RpcClient(pair.Send, pair.Receive, new RpcClientOptions { StreamedResultWindow = 1024 });
        await using var items = rpc.StreamAsync(FloodMethodIds.Flood, FloodCodec.EncodeFlood(100, 512), FloodCodec.DecodeFloodResult, ct).GetAsyncEnumerator(ct);
        var first = items.MoveNextAsync().AsTask();

        // A hand-written server answers with ten items at once, whatever credit the caller granted.
        var request = RpcFrame.Parse(await server.Receive.ReadAsync(ct) ?? throw new InvalidOperationException("No request arrived."));
        var frame = new System.Buffers.ArrayBufferWriter<byte>();
        for (var i = 0; i < 10; i++)
        {
            frame.ResetWrittenCount();
            RpcFrame.WriteItem(frame, request.CallId, FloodCodec.EncodeFloodResult(Messages.Numbered(i, 512)));
            await server.Send.SendAsync(frame.WrittenMemory, ct);
        }

        Assert.True(await first.WaitAsync(ct));
        var refused = await Assert.ThrowsAsync<ConecException>(async () =>
        {
            while (await items.MoveNextAsync())
            {
            }
        });
        Assert.Equal(ConecError.ProtocolViolation, refused.Error);
        Assert.Contains("window", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallsWaitForRoomInTheQueueAndOneCancelledWhileWaitingIsNeverSent()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var server = await Messages.NextAsync(client.IncomingStreams, ct);
        await using var rpc = new RpcClient(pair.Send, pair.Receive, new RpcClientOptions { MaxQueuedCalls = 1 });
        var bulk = FloodCodec.EncodeFloodResult(new byte[512 * 1024]);
        var small = FloodCodec.EncodeFloodResult([1]);

        // The server reads nothing: one-way messages go out until the stream's windows are full and one stalls.
        var method = 0;
        while (await Timeouts.CompletesWithin(rpc.NotifyAsync(++method, bulk, ct).AsTask(), TimeSpan.FromMilliseconds(300)))
        {
            Assert.True(method < 200, "The stream never applied back-pressure.");
        }

        var queued = rpc.NotifyAsync(method + 1, small, ct).AsTask();        // takes the one place in the queue
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var waiting = rpc.NotifyAsync(method + 2, small, giveUp.Token).AsTask(); // waits for room
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        // Once the server reads, the queued message goes out and the cancelled one never does.
        var heard = new List<int>();
        var reading = Task.Run(async () =>
        {
            while (await server.Receive.ReadAsync(ct) is { } message)
            {
                heard.Add(RpcFrame.Parse(message).MethodId);
                if (heard[^1] == method + 3)
                {
                    return;
                }
            }
        }, ct);
        await queued.WaitAsync(ct);
        await rpc.NotifyAsync(method + 3, small, ct);
        await reading.WaitAsync(ct);
        Assert.Equal([method + 1, method + 3], heard[^2..]);
        Assert.DoesNotContain(method + 2, heard);
    }
}
