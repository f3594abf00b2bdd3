using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>A property test: random writes, finishes and aborts across many streams, checked byte for byte.</summary>
public sealed class StreamInterleavingTests
{
    private const int Seed = 20261126;

    [Theory]
    [TransportModes]
    public async Task Random_interleavings_of_writes_finishes_and_aborts_keep_every_stream_intact(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var random = new Random(Seed);
        const int streams = 40;

        var senders = new TransportStream[streams];
        var sent = new List<byte>[streams];
        var abortCodes = new long?[streams];
        var open = Enumerable.Range(0, streams).ToList();
        for (var i = 0; i < streams; i++)
        {
            senders[i] = await pair.Client.OpenStreamAsync(ct);
            sent[i] = [];
        }

        var receivers = Task.Run(async () =>
        {
            var outcomes = new Dictionary<int, (byte[] Data, ConecException? Error)>();
            for (var i = 0; i < streams; i++)
            {
                var stream = await pair.Server.AcceptStreamAsync(ct);
                var (data, error) = await StreamIo.ReadUntilEndOrErrorAsync(stream, ct);

                // Every stream starts with its index, so the outcome is matched to its sender whatever the order.
                outcomes[data.Length > 0 ? data[0] : -1 - i] = (data, error);
            }

            return outcomes;
        }, ct);

        // Each stream first writes its index, so the receiver can tell them apart whatever the order.
        for (var i = 0; i < streams; i++)
        {
            await senders[i].WriteAsync(new[] { (byte)i }, false, ct);
            sent[i].Add((byte)i);
        }

        while (open.Count > 0)
        {
            var pick = open[random.Next(open.Count)];
            var action = random.Next(10);
            if (action < 8)
            {
                var data = StreamIo.Pattern(random.Next(1, 20_000), random.Next());
                await senders[pick].WriteAsync(data, false, ct);
                sent[pick].AddRange(data);
            }
            else if (action == 8)
            {
                senders[pick].CompleteWrites();
                open.Remove(pick);
            }
            else
            {
                abortCodes[pick] = 1000 + pick;
                senders[pick].AbortWrite(1000 + pick);
                open.Remove(pick);
            }
        }

        var outcomes = await receivers;
        for (var i = 0; i < streams; i++)
        {
            var context = $"stream {i}, seed {Seed}";
            if (abortCodes[i] is { } code)
            {
                // A reset may overtake the stream's tail (QUIC) but never reorders or corrupts what did arrive.
                if (outcomes.TryGetValue(i, out var aborted))
                {
                    Assert.True(aborted.Error is { Error: ConecError.StreamAborted } e && e.ApplicationErrorCode == code, context);
                    Assert.True(sent[i].Take(aborted.Data.Length).SequenceEqual(aborted.Data), context);
                }

                continue;
            }

            Assert.True(outcomes.TryGetValue(i, out var outcome), context);
            Assert.Null(outcome.Error);
            Assert.True(sent[i].SequenceEqual(outcome.Data), context);
        }
    }
}
