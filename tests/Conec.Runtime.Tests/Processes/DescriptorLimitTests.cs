using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Conec.Coordinator;
using Conec.Tests.Coordination;

namespace Conec.Tests.Processes;

/// <summary>
/// A `conec coord` process under a low descriptor limit (<c>ulimit -n</c>, set by bash before it starts) and more
/// clients than it can hold: the excess is refused as full within seconds, the process lives, the clients inside
/// carry on, and places freed are taken again. And when descriptors really run out (MaxClients set above what the
/// limit allows), the accept loop outlives EMFILE and accepts again once clients leave.
/// </summary>
public sealed class DescriptorLimitTests : IDisposable
{
    private const int Limit = 400;
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-limits-").FullName;

    [Theory]
    [InlineData(null)]
    [InlineData(60)]
    public async Task ClientsBeyondTheCapacityAreRefusedAsFullWhileTheOthersCarryOn(int? maxClients)
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(120));
        string[] options = maxClients is { } set ? ["--max-clients", set.ToString(CultureInfo.InvariantCulture)] : [];
        await using var coord = await StartUnderLimitAsync(Limit, ct, options);

        // Unset, the capacity is what the coordinator derives from the limit it read: it must have read 400.
        var capacity = maxClients ?? CoordLimits.Resolve(null, null, Limit).MaxClients;
        Assert.Contains($"At most {capacity} clients", coord.Runner.Output, StringComparison.Ordinal);

        var inside = await ConnectAllAsync(coord, "inside", capacity, ct);

        // Every client beyond it is refused, promptly and with the reason.
        var refusals = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var refused = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(Config(coord, $"excess{i}"), ct));
            return (refused, clock.Elapsed);
        }));
        Assert.All(refusals, r =>
        {
            Assert.Equal(ConecError.CoordinatorFull, r.refused.Error);
            Assert.Contains($"holds {capacity} connections", r.refused.Message, StringComparison.Ordinal);
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(5), $"A refusal took {r.Elapsed}.");
        });

        // The process lives and those inside still talk.
        Assert.False(coord.Runner.HasExited, $"The coordinator died: {coord.Runner.Error}");
        await ExchangeAsync(inside, ct);

        // Half leave; as many newcomers get in, and then the coordinator is full again.
        var leaving = inside.Count / 2;
        foreach (var client in inside.Take(leaving))
        {
            await client.DisposeAsync();
        }

        var remaining = inside.Skip(leaving).ToList();
        var newcomers = await ConnectAllAsync(coord, "newcomer", leaving, ct, retry: e => e.Error == ConecError.CoordinatorFull);
        var after = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(Config(coord, "onetoomany"), ct));
        Assert.Equal(ConecError.CoordinatorFull, after.Error);
        await ExchangeAsync([.. remaining.Take(5), .. newcomers.Take(5)], ct);
        Assert.False(coord.Runner.HasExited, $"The coordinator died: {coord.Runner.Error}");
        Assert.DoesNotContain("Out of memory", coord.Runner.Error, StringComparison.Ordinal);
        await DisposeAllAsync([.. remaining, .. newcomers]);
    }

    [Fact]
    public async Task RunningOutOfDescriptorsNeitherEndsTheAcceptLoopNorTheProcess()
    {
        // 200 descriptors and room claimed for 1,000 clients: accept meets EMFILE after some 50 clients.
        var ct = Timeouts.Token(TimeSpan.FromSeconds(120));
        await using var coord = await StartUnderLimitAsync(200, ct, "--max-clients", "1000", "--max-pending-handshakes", "32");
        var inside = new List<Client>();
        var failures = 0;
        for (var i = 0; failures < 5 && i < 200; i++)
        {
            try
            {
                inside.Add(await Client.ConnectAsync(Config(coord, $"inside{i}"), ct));
            }
            catch (ConecException e) when (e.Error is ConecError.ConnectionLost or ConecError.Timeout or ConecError.ConnectionClosed)
            {
                failures++;
            }
        }

        Assert.InRange(inside.Count, 10, 150);
        await coord.Runner.WaitForOutputAsync("no descriptor is left", ct);
        Assert.False(coord.Runner.HasExited, $"The coordinator died: {coord.Runner.Error}");
        await ExchangeAsync(inside, ct);

        // Once clients leave, the loop that met EMFILE accepts again.
        const int leaving = 40;
        foreach (var client in inside.Take(leaving))
        {
            await client.DisposeAsync();
        }

        var newcomers = await ConnectAllAsync(coord, "newcomer", leaving / 2, ct,
            retry: e => e.Error is ConecError.ConnectionLost or ConecError.Timeout or ConecError.ConnectionClosed);
        await coord.Runner.WaitForOutputAsync("accepts again", ct);
        await ExchangeAsync([.. inside.Skip(leaving).Take(5), .. newcomers.Take(5)], ct);
        Assert.False(coord.Runner.HasExited, $"The coordinator died: {coord.Runner.Error}");
        Assert.DoesNotContain("Out of memory", coord.Runner.Error, StringComparison.Ordinal);
        await DisposeAllAsync([.. inside.Skip(leaving), .. newcomers]);
    }

    private Task<CoordProcess> StartUnderLimitAsync(int limit, CancellationToken ct, params string[] options) =>
        CoordProcess.StartAsync(_directory, TransportMode.Tcp, IPAddress.Loopback, 0, ct,
            command => ProcessRunner.StartCommand("bash", ["-c", $"ulimit -n {limit} && exec \"$@\"", "bash", .. command]), options);

    private static ClientConfig Config(CoordProcess coord, string id) => new(id, "localhost")
    {
        CoordinatorEndPoint = coord.EndPoint,
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = TransportMode.Tcp,
        Listen = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Connects <paramref name="count"/> clients, 16 at a time; a failure <paramref name="retry"/> accepts is tried again.</summary>
    private static async Task<List<Client>> ConnectAllAsync(CoordProcess coord, string prefix, int count, CancellationToken ct, Func<ConecException, bool>? retry = null)
    {
        var connected = new ConcurrentBag<Client>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            while (true)
            {
                try
                {
                    connected.Add(await Client.ConnectAsync(Config(coord, $"{prefix}{i}"), token));
                    return;
                }
                catch (ConecException e) when (retry?.Invoke(e) == true)
                {
                    await Task.Delay(50, token); // as a reconnecting client backs off
                }
            }
        });
        return [.. connected];
    }

    /// <summary>Pairs of the clients echo a message through the coordinator each way.</summary>
    private static async Task ExchangeAsync(List<Client> clients, CancellationToken ct)
    {
        for (var i = 0; i + 1 < clients.Count && i < 10; i += 2)
        {
            var pair = await clients[i].NewProxiedStreamAsync(clients[i + 1].Id, ct);
            var echo = Messages.EchoAsync(await Messages.NextAsync(clients[i + 1].IncomingStreams, ct), ct);
            await Messages.AssertEchoAsync(pair, [1, 2, 3], ct);
            await pair.Send.FinishAsync(ct);
            await echo;
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<Client> clients)
    {
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
