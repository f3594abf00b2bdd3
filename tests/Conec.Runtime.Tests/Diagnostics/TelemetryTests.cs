using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Conec.Tests.Coordination;
using Conec.Tests.Typed;
using Microsoft.Extensions.DependencyInjection;

namespace Conec.Tests.Diagnostics;

/// <summary>The "Conec" meters and activity source: what operators and tracing tools see.</summary>
public sealed class TelemetryTests
{
    private static readonly ActivitySource TestSource = new("Conec.Tests");

    [Fact]
    public async Task StreamsRelayedBytesAndRefusalsAreMeasuredOnTheInstancesOwnMeter()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var own = new ConcurrentQueue<(string Name, long Value, string? Tag)>();
        var shared = new ConcurrentQueue<(string Name, long Value, string? Tag)>();
        long ownRelayed = 0;
        var relayedAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // The meter this test's factory made, and the process-wide one, which other test classes also feed.
            if (instrument.Meter.Scope == meters || instrument.Meter == Conec.Diagnostics.ConecTelemetry.Meter)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var entry = (instrument.Name, value, tags.Length > 0 ? tags[0].Value?.ToString() : null);
            if (instrument.Meter.Scope != meters)
            {
                shared.Enqueue(entry);
                return;
            }

            own.Enqueue(entry);

            // The relay counts a forwarded frame just after queueing it, so the receiver may read it a moment before.
            if (instrument.Name == "conec.relay.bytes" && Interlocked.Add(ref ownRelayed, value) >= 10_004)
            {
                relayedAll.TrySetResult();
            }
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();

        var ct = Timeouts.Token();
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c => c.MeterFactory = meters);
        var client1 = await cluster.ConnectAsync(WithMeters(cluster.ClientConfig("client1"), meters));
        var client2 = await cluster.ConnectAsync(WithMeters(cluster.ClientConfig("client2"), meters));

        // A bystander on the process-wide meter does the same beside it, as other test classes may at any time.
        await using var bystander = await Cluster.StartAsync(TransportMode.Tcp);
        await RelayAndRefuseAsync(bystander, await bystander.ConnectAsync("client1"), await bystander.ConnectAsync("client2"), ct);

        await RelayAndRefuseAsync(cluster, client1, client2, ct);
        Assert.True(await Timeouts.CompletesWithin(relayedAll.Task, Timeouts.Operation),
            $"The coordinator's own meter counted {Interlocked.Read(ref ownRelayed)} relayed bytes, not the 10,004 it relayed.");

        // Exactly what this coordinator and its clients did, and nothing the bystander did.
        Assert.Equal([1L], own.Where(m => m.Name == "conec.streams.opened").Select(m => m.Value));
        Assert.Contains(own, m => m is { Name: "conec.streams.opened", Tag: "proxied" });
        Assert.Equal(10_004, own.Where(m => m.Name == "conec.relay.bytes").Sum(m => m.Value));
        Assert.Equal([("conec.handshake.failures", 1L, "IdInUse")], own.Where(m => m.Name == "conec.handshake.failures"));
        Assert.Equal(2, own.Where(m => m.Name == "conec.coordinator.clients").Sum(m => m.Value));

        // Without a factory, the process-wide meter still measures (among whatever else runs in this process).
        Assert.Contains(shared, m => m is { Name: "conec.streams.opened", Tag: "proxied" });
        Assert.Contains(shared, m => m is { Name: "conec.handshake.failures", Tag: "IdInUse" });
    }

    [Fact]
    public async Task TraceContextCrossesProxiedStreamsAndRpcCalls()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Conec" or "Conec.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var caller = await cluster.ConnectAsync("caller");
        var callee = await cluster.ConnectAsync("callee");
        var ct = Timeouts.Token();
        using var root = TestSource.StartActivity("test");
        Assert.NotNull(root);

        var pair = await caller.NewProxiedStreamAsync("callee", ct);
        var incoming = await Messages.NextAsync(callee.IncomingStreams, ct);
        Assert.Equal(root.TraceId, incoming.TraceContext.TraceId);

        _ = ChatServer.ServeAsync(new ChatService(), incoming, cancellationToken: ct);
        await using var chat = new ChatClient(pair);
        Assert.Equal(30, await chat.Roll(3, ct));
        var call = Assert.Single(stopped, a => a.OperationName == "conec.rpc.call" && a.TraceId == root.TraceId);

        // The server's activity ends after it has sent the result, so it may stop a moment after the call returns.
        var clock = Stopwatch.StartNew();
        while (!stopped.Any(a => a.OperationName == "conec.rpc.serve" && a.ParentSpanId == call.SpanId))
        {
            Assert.True(clock.Elapsed < Timeouts.Operation, "The server's activity did not join the caller's trace.");
            await Task.Delay(5, ct);
        }
    }

    private static ClientConfig WithMeters(ClientConfig config, IMeterFactory meters)
    {
        config.MeterFactory = meters;
        return config;
    }

    /// <summary>client1 sends client2 one 10,000-byte message through the coordinator; a second "client1" is refused.</summary>
    private static async Task RelayAndRefuseAsync(Cluster cluster, Client client1, Client client2, CancellationToken ct)
    {
        var pair = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        await pair.Send.SendAsync(new byte[10_000], ct);
        Assert.Equal(10_000, (await incoming.Receive.ReadAsync(ct))?.Length);
        var refused = await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync(cluster.ClientConfig("client1")));
        Assert.Equal(ConecError.IdInUse, refused.Error);
    }
}
