using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Conec.Tests.Coordination;
using Conec.Tests.Typed;

namespace Conec.Tests.Diagnostics;

/// <summary>The "Conec" meter and activity source: what operators and tracing tools see.</summary>
public sealed class TelemetryTests
{
    private static readonly ActivitySource TestSource = new("Conec.Tests");

    [Fact]
    public async Task StreamsRelayedBytesAndRefusalsAreMeasured()
    {
        var measured = new ConcurrentBag<(string Name, long Value, string? Tag)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Conec")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measured.Add((instrument.Name, value, tags.Length > 0 ? tags[0].Value?.ToString() : null)));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            measured.Add((instrument.Name, value, tags.Length > 0 ? tags[0].Value?.ToString() : null)));
        listener.Start();

        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token();
        var pair = await client1.NewProxiedStreamAsync("client2", ct);
        var incoming = await Messages.NextAsync(client2.IncomingStreams, ct);
        await pair.Send.SendAsync(new byte[10_000], ct);
        Assert.NotNull(await incoming.Receive.ReadAsync(ct));
        await Assert.ThrowsAsync<ConecException>(() => cluster.ConnectAsync("client1"));

        Assert.Contains(measured, m => m is { Name: "conec.streams.opened", Tag: "proxied" });
        Assert.True(measured.Where(m => m.Name == "conec.relay.bytes").Sum(m => m.Value) >= 10_004, "The relayed message was not counted.");
        Assert.Contains(measured, m => m is { Name: "conec.handshake.failures", Tag: "IdInUse" });
        Assert.Contains(measured, m => m is { Name: "conec.coordinator.clients", Value: 1 });
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
}
