using System.Diagnostics;
using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// Direct channels against one-hop baselines, and broadcast fan-out against an ASP.NET Core SignalR hub group, all
/// over TLS on loopback in one run.
/// </summary>
internal static class ChannelsBenchmark
{
    private const int BulkMessage = 64 * 1024;
    private static readonly int[] ReceiverCounts = [1, 10, 50];
    private const int LargeMessage = 16 * 1024;
    private static readonly int[] Sizes = [64, LargeMessage];

    public static async Task<RatioTable> RunAsync(BenchmarkScale scale, bool quick, TextWriter progress)
    {
        var table = new RatioTable();
        var certificates = new BenchmarkCertificates();
        await using var ssl = new SslStreamPairs(certificates);
        await using var transport = await ConecPairs.StartAsync(certificates);
        await using var coord = await CoordinationBenchmark.StartCoordAsync(certificates);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        await using var a = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-a");
        await using var b = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-b");
        await a.NewChannelAsync("bench-b");

        progress.WriteLine("direct streams…");
        var directBulk = await TransportBenchmark.BestAsync(scale, () => CoordinationBenchmark.MessagesAsync(
            () => OpenDirectAsync(a, b), BulkMessage, (int)(scale.BulkBytes / BulkMessage), megabytes: true));
        var sslBulk = await TransportBenchmark.BestAsync(scale, () => TransportBenchmark.BulkAsync(ssl, 1, scale.BulkBytes));
        table.Add("direct bulk, 64 KiB messages", "MB/s", directBulk, "one-hop SslStream", sslBulk, target: ">= 0.8x");
        var directSmall = await TransportBenchmark.BestAsync(scale, () => CoordinationBenchmark.MessagesAsync(
            () => OpenDirectAsync(a, b), 64, scale.Messages, megabytes: false));
        var transportSmall = await TransportBenchmark.BestAsync(scale, () => CoordinationBenchmark.MessagesAsync(
            () => CoordinationBenchmark.OpenDirectAsync(transport), 64, scale.Messages, megabytes: false));
        table.Add("direct 64-byte messages", "msg/s", directSmall, "one-hop Conec TCP stream", transportSmall);

        await using var signalR = await SignalRFanOut.StartAsync(certificates.ServerCertificate);
        await using var fan = await FanOutMembers.ConnectAsync(endPoint, certificates, ReceiverCounts.Max());
        foreach (var size in Sizes)
        {
            foreach (var n in ReceiverCounts)
            {
                var count = FanOutCount(scale, size, n) / (quick ? 2 : 1);
                progress.WriteLine($"fan-out: {size} B to {n} receivers…");
                var members = fan.Receivers.Take(n).ToList();
                var conec = await TransportBenchmark.BestAsync(scale, () => ConecFanOutAsync(fan.Sender, members, size, count));
                var hub = await TransportBenchmark.BestAsync(scale, () => signalR.RunAsync(n, size, count));
                table.Add($"broadcast {size} B to {n}, delivered", "msg/s", conec, "SignalR hub group", hub,
                    target: n >= 10 ? ">= 3x" : "");
                table.Add($"broadcast {size} B to {n}, delivered", "MB/s", conec * size / 1e6, "SignalR hub group", hub * size / 1e6);
            }
        }

        return table;
    }

    /// <summary>
    /// The rows with targets again, as medians of ratios taken pair by pair (see <see cref="PairedRatios"/>): direct
    /// bulk against one-hop SslStream, and broadcast fan-out to 10 and 50 receivers against the SignalR hub group.
    /// </summary>
    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs)
    {
        var certificates = new BenchmarkCertificates();
        await using var ssl = new SslStreamPairs(certificates);
        await using var coord = await CoordinationBenchmark.StartCoordAsync(certificates);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        await using var a = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-a");
        await using var b = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-b");
        await a.NewChannelAsync("bench-b");
        var table = new PairedRatios();
        var bytes = scale.BulkBytes / 4; // each run shorter, many more of them
        await table.AddAsync("direct bulk, 64 KiB messages", () => CoordinationBenchmark.MessagesAsync(
                () => OpenDirectAsync(a, b), BulkMessage, (int)(bytes / BulkMessage), megabytes: true),
            "one-hop SslStream", () => TransportBenchmark.BulkAsync(ssl, 1, bytes), pairs, ">= 0.8x");

        await using var signalR = await SignalRFanOut.StartAsync(certificates.ServerCertificate);
        await using var fan = await FanOutMembers.ConnectAsync(endPoint, certificates, ReceiverCounts.Max());

        // One more member that joins under DropOldest and never reads must not slow the other ten.
        var ten = fan.Receivers.Take(10).ToList();
        var stalledCount = FanOutCount(scale, LargeMessage, 10) / 2;
        await table.AddAsync("16 KiB to 10 + 1 never reading", () => ConecFanOutAsync(fan.Sender, ten, LargeMessage, stalledCount, fan.Receivers[10]),
            "the same 10 alone", () => ConecFanOutAsync(fan.Sender, ten, LargeMessage, stalledCount), pairs, ">= 0.8x");
        foreach (var size in Sizes)
        {
            foreach (var n in ReceiverCounts.Where(n => n >= 10))
            {
                var count = FanOutCount(scale, size, n) / 2;
                var members = fan.Receivers.Take(n).ToList();
                await table.AddAsync($"broadcast {size} B to {n}, msg/s", () => ConecFanOutAsync(fan.Sender, members, size, count),
                    "SignalR hub group", () => signalR.RunAsync(n, size, count), pairs, ">= 3x");
            }
        }

        return table;
    }

    private static int _runs;

    /// <summary>
    /// Messages per fan-out run, for both sides: every row delivers the same number in all, fewer messages to more
    /// receivers (the 50-receiver rows keep the count they always had). With one count for every row, a run to 10
    /// receivers delivered a fifth of what a run to 50 did, and lasted about half a second on the faster side, where
    /// a broadcast's start and drain weigh most: measured with the public API, one build delivered a median of about
    /// 30,000 16 KiB messages a second to 10 receivers in runs of 2,000 messages, and about 45,000 in runs of 10,000.
    /// </summary>
    private static int FanOutCount(BenchmarkScale scale, int size, int receivers) =>
        (size <= 64 ? scale.Messages * 5 / 2 : scale.Messages / 2) / receivers;

    private static async Task<(OutStream Send, InStream Receive)> OpenDirectAsync(Client from, Client to)
    {
        var (send, _) = await from.NewDirectStreamAsync(to.Id);
        await using var incoming = to.IncomingStreams.GetAsyncEnumerator();
        await incoming.MoveNextAsync();
        return (send, incoming.Current.Receive);
    }

    /// <summary>
    /// Messages delivered per second: one sender (not itself a receiver), every receiver reading all. A
    /// <paramref name="stalled"/> client, when given, joins too, under <see cref="SlowReceiverPolicy.DropOldest"/>,
    /// and never reads; its messages are not counted.
    /// </summary>
    private static async Task<double> ConecFanOutAsync(Client sender, List<Client> receivers, int size, int count, Client? stalled = null)
    {
        var channel = $"fan-{receivers.Count}-{size}-{Interlocked.Increment(ref _runs)}";
        var members = new List<StreamPair>();
        foreach (var receiver in receivers)
        {
            members.Add(await receiver.NewBroadcastAsync(channel));
        }

        await using var neverReading = stalled is null ? null
            : new StalledMember(await stalled.NewBroadcastAsync(channel, new BroadcastOptions { Policy = SlowReceiverPolicy.DropOldest, Capacity = 8 }));
        if (neverReading is not null)
        {
            await neverReading.Pair.Send.FinishAsync();
        }

        var (send, ownEcho) = await sender.NewBroadcastAsync(channel);
        await ownEcho.DisposeAsync();
        foreach (var member in members)
        {
            await member.Send.FinishAsync();
        }

        var reading = members.Select(member => Task.Run(async () =>
        {
            var received = 0;
            while (await member.Receive.ReadSequenceAsync() is not null)
            {
                received++;
            }

            return received;
        })).ToArray();
        var payload = new byte[size];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await send.SendAsync(payload);
        }

        await send.FinishAsync();
        var counts = await Task.WhenAll(reading);
        var elapsed = clock.Elapsed.TotalSeconds;
        return counts.Any(c => c != count)
            ? throw new InvalidOperationException($"A receiver got {counts.Min()} of {count} messages.")
            : (double)count * receivers.Count / elapsed;
    }

    /// <summary>A member that never reads, disposed when its run ends.</summary>
    private sealed class StalledMember(StreamPair pair) : IAsyncDisposable
    {
        public StreamPair Pair { get; } = pair;

        public async ValueTask DisposeAsync()
        {
            await Pair.Send.DisposeAsync();
            await Pair.Receive.DisposeAsync();
        }
    }
}
