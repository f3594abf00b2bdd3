using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Typed;

/// <summary>The generated code end to end over real Conec streams: typed messages, typed broadcasts, RPC.</summary>
public sealed class TypedStreamTests
{
    [Theory, TransportModes]
    public async Task ATypedChatOverABroadcastCarriesSenderIds(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var ct = Timeouts.Token();
        var alice = await (await cluster.ConnectAsync("alice")).NewBroadcastAsync("room", cancellationToken: ct);
        var bob = await (await cluster.ConnectAsync("bob")).NewBroadcastAsync("room", cancellationToken: ct);
        var aliceSays = new ChatSender(alice.Send);
        var bobSays = new ChatSender(bob.Send);
        var bobHears = new ChatBroadcastReader(bob.Receive);

        await aliceSays.Say(new ChatLine("hello", 1));
        Assert.Equal(("alice", (ChatMessage)new ChatMessage.Say(new ChatLine("hello", 1))), await bobHears.ReceiveAsync(ct));
        await bobSays.Shout("hey", 2);
        Assert.Equal(("bob", (ChatMessage)new ChatMessage.Shout("hey", 2)), await bobHears.ReceiveAsync(ct));

        // The dispatcher passes the sender to the handler.
        var heard = new List<string>();
        var aliceHears = new ChatBroadcastReader(alice.Receive);
        await alice.Send.FinishAsync(ct);
        await bob.Send.FinishAsync(ct);
        await aliceHears.DispatchAsync(new RecordingHandler(heard), ct);
        Assert.Equal(["alice: hello", "bob: heyhey"], heard);
    }

    [Theory, TransportModes]
    public async Task TypedMessagesArriveAsTheUnionAndDispatchToAnImplementation(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var (send, _) = await client.NewProxiedStreamAsync("client1", ct);
        var incoming = await Messages.NextAsync(client.IncomingStreams, ct);
        var sender = new ChatSender(send);

        await sender.Say(new ChatLine("one", 1));
        await sender.Shout("two", 1);
        await send.FinishAsync(ct);
        var service = new ChatService();
        await new ChatReceiver(incoming.Receive).DispatchAsync(service, ct);
        Assert.Equal([new ChatLine("one", 1)], service.Lines);
        Assert.Equal(["two"], service.Shouts);
    }

    [Theory, TransportModes]
    public async Task RpcReturnsResultsRemoteExceptionsAndServesConcurrentCalls(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var caller = await cluster.ConnectAsync("caller");
        var callee = await cluster.ConnectAsync("callee");
        var ct = Timeouts.Token();
        var service = new ChatService();
        var pair = await caller.NewProxiedStreamAsync("callee", ct);
        var serving = ChatServer.ServeAsync(service, await Messages.NextAsync(callee.IncomingStreams, ct), cancellationToken: ct);
        await using var chat = new ChatClient(pair);

        Assert.Equal(60, await chat.Roll(6, ct));
        Assert.Equal("hi (3)", await chat.Describe(new ChatLine("hi", 3)));
        var remote = await Assert.ThrowsAsync<ConecRemoteException>(async () => await chat.Fail("boom"));
        Assert.Equal(("System.InvalidOperationException", "boom"), (remote.RemoteType, remote.Message));

        var many = await Task.WhenAll(Enumerable.Range(1, 64).Select(i => chat.Roll(i, ct).AsTask()));
        Assert.Equal(Enumerable.Range(1, 64).Select(i => i * 10), many);

        await chat.Shout("ho", 3);
        Assert.Equal(30, await chat.Roll(3, ct));
        Assert.Equal(["hohoho"], service.Shouts);

        await chat.DisposeAsync();
        await serving.WaitAsync(ct);
    }

    [Theory, TransportModes]
    public async Task CancellingACallCancelsTheRemoteHandler(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var service = new ChatService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = ChatServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), cancellationToken: ct);
        await using var chat = new ChatClient(pair);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var waiting = chat.Wait(60_000, cancel.Token).AsTask();
        await service.WaitStarted.Task.WaitAsync(ct);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await service.WaitCancelled.Task.WaitAsync(ct);

        // The stream carries on after a cancelled call.
        Assert.Equal(20, await chat.Roll(2, ct));
    }

    [Theory, TransportModes]
    public async Task StreamedResultsArriveInOrderAndStoppingEarlyStopsTheServer(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var service = new ChatService();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = ChatServer.ServeAsync(service, await Messages.NextAsync(client.IncomingStreams, ct), cancellationToken: ct);
        await using var chat = new ChatClient(pair);

        var all = new List<int>();
        await foreach (var i in chat.Count(5, ct))
        {
            all.Add(i);
        }

        Assert.Equal([1, 2, 3, 4, 5], all);

        // Stopping after two items cancels the producer on the server.
        var service2 = new ChatService();
        var pair2 = await client.NewProxiedStreamAsync("client1", ct);
        _ = ChatServer.ServeAsync(service2, await Messages.NextAsync(client.IncomingStreams, ct), cancellationToken: ct);
        await using var chat2 = new ChatClient(pair2);
        var taken = new List<int>();
        await foreach (var i in chat2.Count(1_000_000, ct))
        {
            taken.Add(i);
            if (taken.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([1, 2], taken);
        await service2.CountStopped.Task.WaitAsync(ct);
        Assert.Equal(20, await chat2.Roll(2, ct));
    }

    [Fact]
    public void AMessageThatDoesNotMatchTheContractIsAClearError()
    {
        var unknownId = Assert.Throws<ConecException>(() => ChatReceiver.Decode(new byte[] { 0x91, 0x05 }));
        Assert.Equal(ConecError.MalformedMessage, unknownId.Error);
        var garbage = Assert.Throws<ConecException>(() => ChatReceiver.Decode(new byte[] { 0xC1 }));
        Assert.Equal(ConecError.MalformedMessage, garbage.Error);
    }

    [Fact]
    public void GeneratedFormattersServeTheContractsTypesAndMatchMessagePacksOwnLayout()
    {
        // The generated resolver, not MessagePack's dynamic (Reflection.Emit) one, serves the contract's record.
        Assert.NotNull(ChatResolver.Instance.GetFormatter<ChatLine>());
        Assert.Null(ChatResolver.Instance.GetFormatter<Uri>());

        var line = new ChatLine("hello", 3);
        var generated = MessagePack.MessagePackSerializer.Serialize(line, ChatResolver.Options, TestContext.Current.CancellationToken);
        var dynamic = MessagePack.MessagePackSerializer.Serialize(line, MessagePack.MessagePackSerializerOptions.Standard, TestContext.Current.CancellationToken);
        Assert.Equal(dynamic, generated);
        Assert.Equal(line, MessagePack.MessagePackSerializer.Deserialize<ChatLine>(generated, ChatResolver.Options, TestContext.Current.CancellationToken));
    }

    private sealed class RecordingHandler(List<string> heard) : IChatBroadcastHandler
    {
        public ValueTask Say(string sender, ChatLine line)
        {
            heard.Add($"{sender}: {line.Text}");
            return ValueTask.CompletedTask;
        }

        public ValueTask Shout(string sender, string text, int times)
        {
            heard.Add($"{sender}: {string.Concat(Enumerable.Repeat(text, times))}");
            return ValueTask.CompletedTask;
        }
    }
}
