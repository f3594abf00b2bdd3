using System.Buffers;
using System.Diagnostics;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>
/// A small message on a quiet stream is not queued behind another stream's bulk on the same connection: the
/// multiplexer's writer serves small writes first, and QUIC schedules its streams itself.
/// </summary>
public sealed class WriterFairnessTests(ITestOutputHelper output)
{
    private const int RoundTrips = 100;
    private const int BulkWrite = 256 * 1024;
    private const long LinkBytesPerSecond = 10_000_000;

    [Fact]
    public async Task Over_a_slow_link_a_small_round_trip_does_not_wait_behind_a_bulk_streams_queue()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Tcp);
        await using var link = ThrottledTcpLink.Start(listener.LocalEndPoint, LinkBytesPerSecond);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var connecting = TransportFactory.ConnectAsync(TransportMode.Tcp, link.EndPoint, null, TransportPair.ClientTls(), new TransportSettings(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, ct);
        await using var server = await listener.AcceptConnectionAsync(ct);
        await using var client = await connecting;

        var (quiet, busy, bulkBytes) = await MeasureAsync(client, server, ct);

        // What the link carries in the time of one round trip: with the bulk stream's whole window (1 MiB) queued in
        // front of it, a round trip would take 100 ms at this rate; the bulk lane and the kernel's unsent limit let
        // through less than half of that.
        output.WriteLine($"through a {LinkBytesPerSecond / 1e6:F0} MB/s link: quiet p50 {quiet.P50:F0} us; beside bulk p50 {busy.P50:F0} us p99 {busy.P99:F0} us, bulk {bulkBytes / 1e6:F1} MB");
        var carried = busy.P50 / 1e6 * LinkBytesPerSecond;
        Assert.True(carried <= 512 * 1024, $"a round trip beside bulk took {busy.P50 / 1000:F1} ms at p50 ({carried / 1024:F0} KiB of the link's time)");
    }

    [Theory]
    [TransportModes]
    public async Task On_loopback_a_small_round_trip_beside_a_saturating_bulk_stream_stays_within_milliseconds(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));

        var (quiet, busy, bulkBytes) = await MeasureAsync(pair.Client, pair.Server, ct);

        // Loopback has no slow link: what a round trip waits for is the receiver's share of two busy cores, and the
        // bulk already in its socket buffer, so the bound is loose; QUIC schedules streams itself.
        output.WriteLine($"{mode}: quiet p50 {quiet.P50:F0} us p99 {quiet.P99:F0} us; beside bulk p50 {busy.P50:F0} us p99 {busy.P99:F0} us, bulk {bulkBytes / 1e6:F0} MB");
        Assert.True(busy.P50 <= Math.Max(quiet.P50 * 50, 5000), $"p50 beside bulk {busy.P50:F0} us against {quiet.P50:F0} us quiet");
    }

    /// <summary>A 64-byte echo's round trips on one stream, quiet and then beside a bulk stream writing flat out.</summary>
    private static async Task<((double P50, double P99) Quiet, (double P50, double P99) Busy, long BulkBytes)> MeasureAsync(
        TransportConnection client, TransportConnection server, CancellationToken ct)
    {
        var echoOut = await client.OpenStreamAsync(ct);
        await echoOut.WriteAsync(new byte[64], completeWrites: false, ct);
        var echoIn = await server.AcceptStreamAsync(ct);
        var echoing = Task.Run(() => EchoAsync(echoIn, ct), ct);
        await ReadExactlyAsync(echoOut, 64, ct);

        var quiet = await RoundTripsAsync(echoOut, ct);

        using var stopBulk = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var bulkOut = await client.OpenStreamAsync(ct);
        var chunk = new byte[BulkWrite];
        await bulkOut.WriteAsync(chunk, completeWrites: false, ct);
        var bulkIn = await server.AcceptStreamAsync(ct);
        var draining = Task.Run(() => DrainAsync(bulkIn, ct), ct);
        var bulkBytes = 0L;

        // The bulk stream fills its window (1 MiB) before the first round trip is timed.
        for (var i = 0; i < 4; i++)
        {
            await bulkOut.WriteAsync(chunk, completeWrites: false, ct);
        }

        var flooding = Task.Run(async () =>
        {
            while (!stopBulk.IsCancellationRequested)
            {
                await bulkOut.WriteAsync(chunk, completeWrites: false, ct);
                bulkBytes += chunk.Length;
            }

            bulkOut.CompleteWrites();
        }, ct);

        var busy = await RoundTripsAsync(echoOut, ct);
        await stopBulk.CancelAsync();
        await flooding;
        echoOut.CompleteWrites();
        await Task.WhenAll(echoing, draining);
        return (quiet, busy, bulkBytes);
    }

    private static async Task<(double P50, double P99)> RoundTripsAsync(TransportStream stream, CancellationToken ct)
    {
        var payload = new byte[64];
        var samples = new double[RoundTrips];
        for (var i = 0; i < RoundTrips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await stream.WriteAsync(payload, completeWrites: false, ct);
            await ReadExactlyAsync(stream, payload.Length, ct);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return (samples[RoundTrips / 2], samples[RoundTrips * 99 / 100]);
    }

    private static async Task ReadExactlyAsync(TransportStream stream, int count, CancellationToken ct)
    {
        var result = await stream.Input.ReadAtLeastAsync(count, ct);
        if (result.Buffer.Length < count)
        {
            throw new EndOfStreamException("the echo ended early");
        }

        stream.Input.AdvanceTo(result.Buffer.GetPosition(count));
    }

    private static async Task EchoAsync(TransportStream stream, CancellationToken ct)
    {
        while (true)
        {
            var result = await stream.Input.ReadAsync(ct);
            if (!result.Buffer.IsEmpty)
            {
                await stream.WriteAsync(result.Buffer.ToArray(), completeWrites: false, ct);
            }

            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                stream.CompleteWrites();
                return;
            }
        }
    }

    private static async Task DrainAsync(TransportStream stream, CancellationToken ct)
    {
        while (true)
        {
            var result = await stream.Input.ReadAsync(ct);
            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
