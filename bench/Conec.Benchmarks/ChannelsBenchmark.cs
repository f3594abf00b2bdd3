using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// Direct channels against one-hop baselines, and broadcast fan-out against an ASP.NET Core SignalR hub group, all
/// over TLS on loopback in one run. Each fan-out configuration has three Conec rows (see <see cref="FanOutReading"/>):
/// the tagged reader users call, which carries the target; a generated typed reader; and a raw row that skips the
/// sender tag, an extra that is not what users call.
/// </summary>
internal static class ChannelsBenchmark
{
    private const int BulkMessage = 64 * 1024;
    internal static readonly int[] ReceiverCounts = [1, 10, 50];
    private const int LargeMessage = 16 * 1024;
    internal static readonly int[] Sizes = [64, LargeMessage];

    private const string FanOutLegend =
        "Fan-out rows: 'tagged' reads with TaggedBroadcastInStream.ReadAllLeasedAsync (sender, lent payload, lost), what users call; 'typed' sends\n" +
        "and reads with a generated FeedSender/FeedBroadcastReader (sender, message). SignalR receivers decode every message.";

    private const string RawLegend =
        "'raw (no sender)' reads InStream.ReadSequenceAsync zero-copy and never parses the sender: not what users call.";

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
                Task<double> RunConec(FanOutReading reading) => ConecFanOut.RunAsync(reading, fan.Sender, members, size, count);
                var tagged = await TransportBenchmark.BestAsync(scale, () => RunConec(FanOutReading.Tagged));
                var typed = await TransportBenchmark.BestAsync(scale, () => RunConec(FanOutReading.Typed));
                var raw = await TransportBenchmark.BestAsync(scale, () => RunConec(FanOutReading.Raw));
                var hub = await TransportBenchmark.BestAsync(scale, () => signalR.RunAsync(n, size, count));
                table.Add(FanOutRow(size, n, FanOutReading.Tagged), "msg/s", tagged, "SignalR hub group", hub, target: n >= 10 ? ">= 3x" : "");
                table.Add(FanOutRow(size, n, FanOutReading.Tagged), "MB/s", tagged * size / 1e6, "SignalR hub group", hub * size / 1e6);
                table.Add(FanOutRow(size, n, FanOutReading.Typed), "msg/s", typed, "SignalR hub group", hub);
                table.Add(FanOutRow(size, n, FanOutReading.Raw), "msg/s", raw, "SignalR hub group", hub);
            }
        }

        table.Note(FanOutLegend);
        table.Note(RawLegend);
        return table;
    }

    /// <summary>
    /// The rows with targets again, as medians of ratios taken pair by pair (see <see cref="PairedRatios"/>): direct
    /// bulk against one-hop SslStream, and broadcast fan-out to 10 and 50 receivers against the SignalR hub group,
    /// read through <see cref="TaggedBroadcastInStream"/> (the rows with targets) and the generated typed reader.
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
        await table.AddAsync("16 KiB to 10 + 1 never reading", () => ConecFanOut.RunAsync(FanOutReading.Tagged, fan.Sender, ten, LargeMessage, stalledCount, fan.Receivers[10]),
            "the same 10 alone", () => ConecFanOut.RunAsync(FanOutReading.Tagged, fan.Sender, ten, LargeMessage, stalledCount), pairs, ">= 0.8x");

        // The targets are on what users call; the typed reader is paired too, the raw reader only in the plain run.
        foreach (var size in Sizes)
        {
            foreach (var n in ReceiverCounts.Where(n => n >= 10))
            {
                var count = FanOutCount(scale, size, n) / 2;
                var members = fan.Receivers.Take(n).ToList();
                await table.AddAsync(FanOutRow(size, n, FanOutReading.Tagged), () => ConecFanOut.RunAsync(FanOutReading.Tagged, fan.Sender, members, size, count),
                    "SignalR hub group", () => signalR.RunAsync(n, size, count), pairs, ">= 3x");
                await table.AddAsync(FanOutRow(size, n, FanOutReading.Typed), () => ConecFanOut.RunAsync(FanOutReading.Typed, fan.Sender, members, size, count),
                    "SignalR hub group", () => signalR.RunAsync(n, size, count), pairs);
            }
        }

        table.Note(FanOutLegend);
        table.Note("The raw reader, which skips the sender tag, is measured only without --paired.");
        return table;
    }

    /// <summary>
    /// Messages per fan-out run, for both sides: every row delivers the same number in all, fewer messages to more
    /// receivers (the 50-receiver rows keep the count they always had). With one count for every row, a run to 10
    /// receivers delivered a fifth of what a run to 50 did, and lasted about half a second on the faster side, where
    /// a broadcast's start and drain weigh most: measured with the public API, one build delivered a median of about
    /// 30,000 16 KiB messages a second to 10 receivers in runs of 2,000 messages, and about 45,000 in runs of 10,000.
    /// </summary>
    internal static int FanOutCount(BenchmarkScale scale, int size, int receivers) =>
        (size <= 64 ? scale.Messages * 5 / 2 : scale.Messages / 2) / receivers;

    /// <summary>The label of a fan-out row, naming how Conec read it.</summary>
    internal static string FanOutRow(int size, int receivers, FanOutReading reading) => reading switch
    {
        FanOutReading.Tagged => $"broadcast {size} B to {receivers}, tagged",
        FanOutReading.Typed => $"broadcast {size} B to {receivers}, typed",
        _ => $"broadcast {size} B to {receivers}, raw (no sender)",
    };

    private static async Task<(OutStream Send, InStream Receive)> OpenDirectAsync(Client from, Client to)
    {
        var (send, _) = await from.NewDirectStreamAsync(to.Id);
        await using var incoming = to.IncomingStreams.GetAsyncEnumerator();
        await incoming.MoveNextAsync();
        return (send, incoming.Current.Receive);
    }
}
