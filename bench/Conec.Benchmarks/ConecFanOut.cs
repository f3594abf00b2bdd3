using System.Diagnostics;

namespace Conec.Benchmarks;

/// <summary>Conec's side of the fan-out rows: one broadcast run through a coordinator, read as a <see cref="FanOutReading"/> says.</summary>
internal static class ConecFanOut
{
    private static int _runs;

    /// <summary>
    /// Messages delivered per second: one sender (not itself a receiver), every receiver reading all, each through
    /// <paramref name="reading"/>. A <paramref name="stalled"/> client, when given, joins too, under
    /// <see cref="SlowReceiverPolicy.DropOldest"/>, and never reads; its messages are not counted.
    /// </summary>
    public static async Task<double> RunAsync(
        FanOutReading reading, Client sender, List<Client> receivers, int size, int count, Client? stalled = null)
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

        var readers = members.Select(member => Task.Run(() => ReadAllAsync(reading, member.Receive))).ToArray();
        var payload = new byte[size];
        var typed = new FeedSender(send);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            if (reading == FanOutReading.Typed)
            {
                await typed.Publish(payload);
            }
            else
            {
                await send.SendAsync(payload);
            }
        }

        await send.FinishAsync();
        var counts = await Task.WhenAll(readers);
        var elapsed = clock.Elapsed.TotalSeconds;
        return counts.Any(c => c != count)
            ? throw new InvalidOperationException($"A receiver got {counts.Min()} of {count} messages.")
            : (double)count * receivers.Count / elapsed;
    }

    /// <summary>Reads one member's broadcast to its end; returns how many messages arrived (none may be lost).</summary>
    private static async Task<int> ReadAllAsync(FanOutReading reading, InStream receive)
    {
        var received = 0;
        switch (reading)
        {
            case FanOutReading.Tagged:
                await foreach (var (_, _, lost) in new TaggedBroadcastInStream(receive).ReadAllLeasedAsync())
                {
                    received += lost == 0 ? 1 : throw new InvalidOperationException($"{lost} messages were lost under the Wait policy.");
                }

                break;
            case FanOutReading.Typed:
                var reader = new FeedBroadcastReader(receive);
                await foreach (var _ in reader)
                {
                    received++;
                }

                if (reader.Lost != 0)
                {
                    throw new InvalidOperationException($"{reader.Lost} messages were lost under the Wait policy.");
                }

                break;
            default:
                while (await receive.ReadSequenceAsync() is not null)
                {
                    received++;
                }

                break;
        }

        return received;
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
