using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using Conec.Coordinator;
using Conec.Tests.Transport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conec.Tests.Coordination;

/// <summary>
/// A coordinator at its limits: clients beyond MaxClients are told it is full and get in once one leaves;
/// handshakes beyond MaxPendingHandshakes are closed at once; the limits bind, validate and derive as documented.
/// </summary>
public sealed class CapacityTests
{
    [Theory, TransportModes]
    public async Task AClientBeyondMaxClientsIsToldTheCoordinatorIsFullAndGetsInOnceOneLeaves(TransportMode mode)
    {
        using var log = new CapturingLoggerFactory();
        await using var cluster = await Cluster.StartAsync(mode, c =>
        {
            c.MaxClients = 2;
            c.LoggerFactory = log;
        });
        Assert.Equal(2, cluster.Coord.MaxClients);
        var first = await cluster.ConnectAsync("client1");
        await cluster.ConnectAsync("client2");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var full = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(cluster.ClientConfig("client3"), Timeouts.Token()));
        Assert.Equal(ConecError.CoordinatorFull, full.Error);
        Assert.Contains("CoordConfig.MaxClients", full.Message, StringComparison.Ordinal);
        if (mode == TransportMode.Tcp)
        {
            // TCP carries the coordinator's own words, the number included; QUIC only its close code.
            Assert.Contains("holds 2 connections", full.Message, StringComparison.Ordinal);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The refusal took {clock.Elapsed}.");
        Assert.Equal(2, cluster.Coord.ClientCount);
        Assert.Contains("the coordinator is full", await log.WaitForAsync(mode == TransportMode.Tcp ? 1006 : 1204), StringComparison.Ordinal);

        // The clients inside are untouched, and a place frees when one leaves.
        await first.DisposeAsync();
        var third = await ConnectWhenRoomAsync(cluster.ClientConfig("client3"), Timeouts.Token());
        Assert.Equal(2, cluster.Coord.ClientCount);
        await third.DisposeAsync();
    }

    [Fact]
    public async Task HandshakesBeyondMaxPendingHandshakesAreClosedAtOnceAndSayWhatHappened()
    {
        using var log = new CapturingLoggerFactory();
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c =>
        {
            c.MaxPendingHandshakes = 2;
            c.LoggerFactory = log;
        });
        var ct = Timeouts.Token();

        // Two peers connect and never start TLS: both handshakes stay in progress until the hello timeout.
        using var silent1 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var silent2 = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent1.ConnectAsync(cluster.EndPoint, ct);
        await silent2.ConnectAsync(cluster.EndPoint, ct);
        await WaitUntilAsync(() => cluster.Coord.Budget.Pending == 2, "two handshakes in progress", ct);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var closed = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(cluster.ClientConfig("client1"), ct));
        Assert.Equal(ConecError.ConnectionLost, closed.Error);
        Assert.Contains("closed the connection", closed.Message, StringComparison.Ordinal); // during TLS, or as it was made
        Assert.DoesNotContain("certificate", closed.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"The refusal took {clock.Elapsed}.");
        Assert.Contains("MaxPendingHandshakes", await log.WaitForAsync(1006), StringComparison.Ordinal);

        // Once the silent ones leave, clients get in again.
        silent1.Close();
        silent2.Close();
        await WaitUntilAsync(() => cluster.Coord.Budget.Pending == 0, "no handshake in progress", ct);
        await cluster.ConnectAsync("client1");
        Assert.Equal(1, cluster.Coord.ClientCount);
    }

    [Fact]
    public async Task RefusalsHandshakesAndCapacityAreMeasured()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var measured = new ConcurrentQueue<(string Name, long Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            measured.Enqueue((instrument.Name, value, tags.Length > 0 ? tags[0].Value?.ToString() : null));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();

        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c =>
        {
            c.MaxClients = 1;
            c.MeterFactory = meters;
        });
        await cluster.ConnectAsync("client1");
        var full = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(cluster.ClientConfig("client2"), Timeouts.Token()));
        Assert.Equal(ConecError.CoordinatorFull, full.Error);
        await WaitUntilAsync(() => cluster.Coord.Budget.Pending == 0, "no handshake in progress", Timeouts.Token());
        listener.RecordObservableInstruments();

        Assert.Equal([("conec.coordinator.refusals", 1L, "coordinator_full")], measured.Where(m => m.Name == "conec.coordinator.refusals"));
        Assert.Equal(0, measured.Where(m => m.Name == "conec.coordinator.handshakes").Sum(m => m.Value));
        Assert.Contains(measured, m => m is { Name: "conec.coordinator.handshakes", Value: 1 });
        Assert.Equal(1L, measured.Last(m => m.Name == "conec.coordinator.capacity").Value);
    }

    [Fact]
    public void TheLimitsBindFromConfigurationLikeTheOtherOptions()
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["MaxClients"] = "500", ["MaxPendingHandshakes"] = "20", ["Port"] = "0" })
            .Build();
        using var services = new ServiceCollection().AddOptions().Configure<CoordConfig>(section).BuildServiceProvider();
        var config = services.GetRequiredService<IOptions<CoordConfig>>().Value;
        Assert.Equal((500, 20), (config.MaxClients, config.MaxPendingHandshakes));
        Assert.Null(new CoordConfig().MaxClients);
    }

    [Theory]
    [InlineData(400, 217, 30)]
    [InlineData(1024, 728, 104)]
    [InlineData(65_536, 61_184, 128)]
    [InlineData(200, 52, 8)]
    public void UnsetLimitsAreDerivedFromTheDescriptorLimit(long descriptors, int clients, int handshakes)
    {
        var limits = CoordLimits.Resolve(null, null, descriptors);
        Assert.Equal((clients, handshakes), (limits.MaxClients, limits.MaxPendingHandshakes));
        Assert.Contains($"descriptor limit {descriptors}", limits.Source, StringComparison.Ordinal);

        // What is set is kept; what is not is still derived. Without a limit to read, fixed defaults apply.
        Assert.Equal((50, handshakes), (CoordLimits.Resolve(50, null, descriptors).MaxClients, CoordLimits.Resolve(50, null, descriptors).MaxPendingHandshakes));
        Assert.Equal(clients + handshakes - 5, CoordLimits.Resolve(null, 5, descriptors).MaxClients);
        Assert.Equal((10_000, 128), (CoordLimits.Resolve(null, null, null).MaxClients, CoordLimits.Resolve(null, null, null).MaxPendingHandshakes));
    }

    [Fact]
    public void ThisProcessDescriptorLimitIsRead()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/proc/self/limits, the reference, is Linux's.");
        var limit = DescriptorLimit.Read(out var unknown);
        Assert.True(limit is not null, unknown);

        // The test host's own soft limit, as /proc reports it.
        var line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.Equal(soft == "unlimited" ? int.MaxValue : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture), limit);
    }

    /// <summary>Connects, retrying while the coordinator is full: as a reconnecting client would, bounded by the token.</summary>
    internal static async Task<Client> ConnectWhenRoomAsync(ClientConfig config, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await Client.ConnectAsync(config, ct);
            }
            catch (ConecException e) when (e.Error == ConecError.CoordinatorFull)
            {
                await Task.Delay(20, ct);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken ct)
    {
        while (!condition())
        {
            Assert.False(ct.IsCancellationRequested, $"Not reached in time: {what}.");
            await Task.Delay(5, ct);
        }
    }
}
