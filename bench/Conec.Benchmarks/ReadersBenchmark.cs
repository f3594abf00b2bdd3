using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// What the broadcast readers users call cost over the raw stream: fan-out read through
/// <see cref="TaggedBroadcastInStream"/> and through a generated typed reader, each paired with the same fan-out
/// read raw (<see cref="InStream.ReadSequenceAsync"/>, the sender tag skipped), at 1, 10 and 50 members.
/// </summary>
internal static class ReadersBenchmark
{
    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs)
    {
        var certificates = new BenchmarkCertificates();
        await using var coord = await CoordinationBenchmark.StartCoordAsync(certificates);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        await using var fan = await FanOutMembers.ConnectAsync(endPoint, certificates, ChannelsBenchmark.ReceiverCounts.Max());
        var table = new PairedRatios();
        foreach (var size in ChannelsBenchmark.Sizes)
        {
            foreach (var n in ChannelsBenchmark.ReceiverCounts)
            {
                var count = ChannelsBenchmark.FanOutCount(scale, size, n) / 2;
                var members = fan.Receivers.Take(n).ToList();
                Task<double> Run(FanOutReading reading) => ConecFanOut.RunAsync(reading, fan.Sender, members, size, count);
                foreach (var reading in (FanOutReading[])[FanOutReading.Tagged, FanOutReading.Typed])
                {
                    await table.AddAsync(ChannelsBenchmark.FanOutRow(size, n, reading), () => Run(reading),
                        "raw (no sender)", () => Run(FanOutReading.Raw), pairs, ">= 0.9x");
                }
            }
        }

        table.Note("Ratios are delivered messages per second over the raw reader's, in the same fan-out to the same members.");
        table.Note("'tagged' reads TaggedBroadcastInStream.ReadAllLeasedAsync (sender, lent payload); 'typed' a generated reader (sender, message).");
        return table;
    }
}
