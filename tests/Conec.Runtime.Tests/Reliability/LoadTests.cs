using System.Diagnostics;
using Conec.Tests.Coordination;

namespace Conec.Tests.Reliability;

/// <summary>
/// Many clients on one coordinator: each pair exchanges sequence-numbered messages through the coordinator while a
/// broadcast runs among a hundred of them; nothing may be lost or misattributed. 1,000 clients by default; CI sets
/// CONEC_LOAD_CLIENTS lower to stay inside its time budget (see .ci/run).
/// </summary>
public sealed class LoadTests
{
    [Fact]
    public async Task ManyClientsExchangeWithoutLossOrMisattribution()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("CONEC_LOAD_CLIENTS"), out var n) ? n : 1000;
        count -= count % 2;
        const int messages = 20;
        var broadcastMembers = Math.Min(100, count);
        var ct = Timeouts.Token(TimeSpan.FromMinutes(5));
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c => c.HelloTimeout = TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var clients = new Client[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var config = cluster.ClientConfig($"load{i}");
            config.Listen = false;
            config.ConnectTimeout = TimeSpan.FromSeconds(60);
            clients[i] = await Client.ConnectAsync(config, token);
        });
        var connected = clock.Elapsed;
        Assert.Equal(count, cluster.Coord.ClientCount);

        // A broadcast among the first hundred: each says one line; everyone hears every line with the right sender.
        var members = new List<(Client Client, StreamPair Pair)>();
        for (var i = 0; i < broadcastMembers; i++)
        {
            members.Add((clients[i], await clients[i].NewBroadcastAsync("load-room", cancellationToken: ct)));
        }

        var hearing = members.Select(m => Task.Run(async () =>
        {
            var heard = new List<string>();
            await foreach (var message in new TaggedBroadcastInStream(m.Pair.Receive).WithCancellation(ct))
            {
                Assert.Equal(message.Sender, System.Text.Encoding.UTF8.GetString(message.Payload.Span));
                heard.Add(message.Sender);
            }

            return heard;
        }, ct)).ToArray();

        // Pairs (even -> odd) exchange numbered messages through the coordinator, concurrently with the broadcast.
        var pairs = Enumerable.Range(0, count / 2).Select(p => Task.Run(async () =>
        {
            var (from, to) = (clients[2 * p], clients[(2 * p) + 1]);
            var (send, _) = await from.NewProxiedStreamAsync(to.Id, ct);
            var incoming = await Messages.NextAsync(to.IncomingStreams, ct);
            Assert.Equal(from.Id, incoming.Peer);
            for (var i = 0; i < messages; i++)
            {
                await send.SendAsync(Messages.Numbered(i, 256), ct);
            }

            await send.FinishAsync(ct);
            var next = 0;
            await foreach (var message in incoming.Receive.WithCancellation(ct))
            {
                Assert.Equal(next++, Messages.SequenceOf(message.Span));
            }

            Assert.Equal(messages, next);
        }, ct)).ToArray();

        foreach (var (client, pair) in members)
        {
            await pair.Send.SendAsync(System.Text.Encoding.UTF8.GetBytes(client.Id), ct);
            await pair.Send.FinishAsync(ct);
        }

        await Task.WhenAll(pairs);
        var transcripts = await Task.WhenAll(hearing);
        var expected = members.Select(m => m.Client.Id).Order().ToArray();
        Assert.All(transcripts, t => Assert.Equal(expected, t.Order()));
        Assert.All(transcripts, t => Assert.Equal(transcripts[0], t));

        TestContext.Current.SendDiagnosticMessage(
            $"{count} clients connected in {connected.TotalSeconds:0.0} s ({count / connected.TotalSeconds:0} per second); " +
            $"all exchanges done in {clock.Elapsed.TotalSeconds:0.0} s; process working set {Environment.WorkingSet / (1024 * 1024)} MiB.");
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
