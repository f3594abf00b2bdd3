using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;

namespace Conec.Benchmarks;

/// <summary>The foundation benchmark: bulk, multi-stream, small-message and echo rows for three transports.</summary>
internal static class TransportBenchmark
{
    private const int Chunk = 64 * 1024;
    private const int SmallMessage = 64;

    public static async Task<BenchmarkTable> RunAsync(BenchmarkScale scale)
    {
        var certificates = new BenchmarkCertificates();
        await using var ssl = new SslStreamPairs(certificates);
        await using var nerdbank = await NerdbankPairs.StartAsync(certificates);
        await using var conec = await ConecPairs.StartAsync(certificates);
        var table = new BenchmarkTable();

        table.Add("1-stream bulk", "MB/s",
            await BestAsync(scale, () => BulkAsync(conec, 1, scale.BulkBytes)),
            await BestAsync(scale, () => BulkAsync(ssl, 1, scale.BulkBytes)),
            await BestAsync(scale, () => BulkAsync(nerdbank, 1, scale.BulkBytes)));
        table.Add("16-stream aggregate bulk", "MB/s",
            await BestAsync(scale, () => BulkAsync(conec, 16, scale.BulkBytes)),
            await BestAsync(scale, () => BulkAsync(ssl, 16, scale.BulkBytes)),
            await BestAsync(scale, () => BulkAsync(nerdbank, 16, scale.BulkBytes)));
        table.Add("64-byte messages, framed", "msg/s",
            await BestAsync(scale, () => ConecMessagesAsync(conec, scale.Messages)),
            await BestAsync(scale, () => FramedMessagesAsync(ssl, scale.Messages)),
            await BestAsync(scale, () => FramedMessagesAsync(nerdbank, scale.Messages)));

        var conecEcho = await ConecEchoAsync(conec, scale.RoundTrips);
        var sslEcho = await FramedEchoAsync(ssl, scale.RoundTrips);
        var nerdbankEcho = await FramedEchoAsync(nerdbank, scale.RoundTrips);
        table.Add("64-byte echo p50", "us", conecEcho.P50, sslEcho.P50, nerdbankEcho.P50, lowerIsBetter: true);
        table.Add("64-byte echo p99", "us", conecEcho.P99, sslEcho.P99, nerdbankEcho.P99, lowerIsBetter: true);
        return table;
    }

    /// <summary>The throughput rows again, as medians of ratios taken pair by pair (see <see cref="PairedRatios"/>).</summary>
    public static async Task<PairedRatios> RunPairedAsync(BenchmarkScale scale, int pairs)
    {
        var certificates = new BenchmarkCertificates();
        await using var ssl = new SslStreamPairs(certificates);
        await using var nerdbank = await NerdbankPairs.StartAsync(certificates);
        await using var conec = await ConecPairs.StartAsync(certificates);
        var bytes = scale.BulkBytes / 4; // each run shorter, many more of them
        var table = new PairedRatios();
        await table.AddAsync("1-stream bulk", () => BulkAsync(conec, 1, bytes), "SslStream", () => BulkAsync(ssl, 1, bytes), pairs, ">= 0.85x");
        await table.AddAsync("1-stream bulk", () => BulkAsync(conec, 1, bytes), "Nerdbank MX", () => BulkAsync(nerdbank, 1, bytes), pairs, ">= 1x");
        await table.AddAsync("16-stream aggregate bulk", () => BulkAsync(conec, 16, bytes), "Nerdbank MX", () => BulkAsync(nerdbank, 16, bytes), pairs, ">= 1x");
        await table.AddAsync("64-byte messages, framed", () => ConecMessagesAsync(conec, scale.Messages / 4), "Nerdbank MX",
            () => FramedMessagesAsync(nerdbank, scale.Messages / 4), pairs, ">= 1x");
        return table;
    }

    /// <summary>The best of the scale's repeats, timed once the shape has reached its steady state.</summary>
    internal static async Task<double> BestAsync(BenchmarkScale scale, Func<Task<double>> run)
    {
        await SteadyState.WarmUpAsync(run);
        var best = 0.0;
        for (var i = 0; i < scale.Repeats; i++)
        {
            best = Math.Max(best, await run());
        }

        return best;
    }

    /// <summary>MB/s moved by <paramref name="streams"/> pairs sharing <paramref name="totalBytes"/>.</summary>
    internal static async Task<double> BulkAsync(StreamPairs pairs, int streams, long totalBytes)
    {
        var opened = new List<(Stream Client, Stream Server)>();
        for (var i = 0; i < streams; i++)
        {
            opened.Add(await pairs.OpenAsync());
        }

        var perStream = totalBytes / streams / Chunk * Chunk;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(opened.Select(pair => Task.WhenAll(
            Task.Run(async () =>
            {
                var data = new byte[Chunk];
                for (long sent = 0; sent < perStream; sent += Chunk)
                {
                    await pair.Client.WriteAsync(data);
                }
            }),
            Task.Run(async () =>
            {
                var buffer = new byte[Chunk];
                long received = 0;
                while (received < perStream)
                {
                    var read = await pair.Server.ReadAsync(buffer);
                    received += read > 0 ? read : throw new EndOfStreamException("bulk stream ended early");
                }
            }))));
        return perStream * streams / clock.Elapsed.TotalSeconds / 1e6;
    }

    private static async Task<double> ConecMessagesAsync(ConecPairs pairs, int count)
    {
        var (client, server) = await pairs.OpenRawAsync();
        var send = new OutStream(client, 1024 * 1024);
        var receive = new InStream(server, 1024 * 1024);
        var payload = new byte[SmallMessage];
        var clock = Stopwatch.StartNew();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await send.SendAsync(payload);
            }
        });
        for (var i = 0; i < count; i++)
        {
            _ = await receive.ReadSequenceAsync() ?? throw new EndOfStreamException();
        }

        await sending;
        return count / clock.Elapsed.TotalSeconds;
    }

    internal static async Task<double> FramedMessagesAsync(StreamPairs pairs, int count)
    {
        var (client, server) = await pairs.OpenAsync();
        var frame = Frame();
        var reader = PipeReader.Create(server);
        var clock = Stopwatch.StartNew();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                await client.WriteAsync(frame);
            }
        });
        for (var i = 0; i < count; i++)
        {
            await ReadFrameAsync(reader);
        }

        await sending;
        return count / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double P50, double P99)> ConecEchoAsync(ConecPairs pairs, int roundTrips)
    {
        var (client, server) = await pairs.OpenRawAsync();
        var (clientSend, clientReceive) = (new OutStream(client, 65536), new InStream(client, 65536));
        var (serverSend, serverReceive) = (new OutStream(server, 65536), new InStream(server, 65536));
        var echo = Task.Run(async () =>
        {
            while (await serverReceive.ReadAsync() is { } message)
            {
                await serverSend.SendAsync(message);
            }
        });
        var payload = new byte[SmallMessage];
        var samples = new double[roundTrips];
        for (var i = 0; i < roundTrips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await clientSend.SendAsync(payload);
            _ = await clientReceive.ReadSequenceAsync() ?? throw new EndOfStreamException();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        await clientSend.FinishAsync();
        await echo;
        return Percentiles(samples);
    }

    private static async Task<(double P50, double P99)> FramedEchoAsync(StreamPairs pairs, int roundTrips)
    {
        var (client, server) = await pairs.OpenAsync();
        var frame = Frame();
        var serverReader = PipeReader.Create(server);
        var clientReader = PipeReader.Create(client);
        var echo = Task.Run(async () =>
        {
            for (var i = 0; i < roundTrips; i++)
            {
                await ReadFrameAsync(serverReader);
                await server.WriteAsync(frame);
            }
        });
        var samples = new double[roundTrips];
        for (var i = 0; i < roundTrips; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.WriteAsync(frame);
            await ReadFrameAsync(clientReader);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        await echo;
        return Percentiles(samples);
    }

    private static byte[] Frame()
    {
        var frame = new byte[4 + SmallMessage];
        BinaryPrimitives.WriteInt32BigEndian(frame, SmallMessage);
        return frame;
    }

    private static async Task ReadFrameAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.Buffer.Length >= 4 + SmallMessage)
            {
                reader.AdvanceTo(result.Buffer.GetPosition(4 + SmallMessage));
                return;
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("framed stream ended early");
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    internal static (double P50, double P99) Percentiles(double[] samples)
    {
        Array.Sort(samples);
        return (samples[samples.Length / 2], samples[(int)(samples.Length * 0.99)]);
    }
}
