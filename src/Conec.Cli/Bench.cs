using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Conec.Cli;

/// <summary>
/// `conec bench`: end-to-end figures through a coordinator (in-process, or one you name): proxied and direct bulk,
/// broadcast fan-out read as applications read it (each message with its sender's id), and RPC.
/// </summary>
internal static class Bench
{
    private const int BulkMessage = 64 * 1024;

    /// <summary>One measured figure.</summary>
    public sealed record Result(string Name, double Value, string Unit);

    /// <summary>
    /// A coordinator to measure through (null: one in this process). With a client CA (whose key is beside it), every
    /// bench client gets a certificate it issues, as a coordinator run with --client-ca requires.
    /// </summary>
    public sealed record Target(string Host, int Port, string? AuthorityPath, string? ClientAuthorityPath);

    public static async Task<IReadOnlyList<Result>> RunAsync(Target? target, bool quick, TextWriter progress, CancellationToken cancellationToken)
    {
        var bulkBytes = (quick ? 32L : 256L) * 1024 * 1024;
        var messages = quick ? 5_000 : 50_000;
        var calls = quick ? 5_000 : 50_000;
        var certificate = target is null ? ConecCertificates.CreateSelfSigned("localhost") : null;
        await using var coord = certificate is null ? null : await Coord.StartAsync(new CoordConfig { Address = IPAddress.Loopback, Port = 0, Certificate = certificate }, cancellationToken);
        var run = $"b{Environment.ProcessId}x{Random.Shared.Next(1000, 9999)}";
        using var issuer = target?.ClientAuthorityPath is { } issuerPath ? ConecCertificates.Load(issuerPath, Path.ChangeExtension(issuerPath, ".key")) : null;
        var clients = new List<Client>();
        var identities = new List<System.Security.Cryptography.X509Certificates.X509Certificate2>();
        try
        {
            async Task<Client> ConnectAsync(string id)
            {
                var config = target is null
                    ? new ClientConfig($"{run}-{id}", "localhost") { CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coord!.LocalEndPoint.Port), CoordinatorAuthority = certificate, TrustSystemRoots = false }
                    : new ClientConfig($"{run}-{id}", target.Host) { CoordinatorPort = target.Port, CoordinatorAuthorityPath = target.AuthorityPath };
                if (issuer is not null)
                {
                    // Direct channels between clients of a client CA are checked against that CA too.
                    config.Certificate = ConecCertificates.CreateSigned(config.Id, issuer);
                    config.ClientAuthority = issuer;
                    identities.Add(config.Certificate);
                }

                var client = await Client.ConnectAsync(config, cancellationToken);
                QuicFallbackNotice.WriteOnce(config.Transport, progress);
                clients.Add(client);
                return client;
            }

            var a = await ConnectAsync("a");
            var b = await ConnectAsync("b");
            var results = new List<Result>();

            progress.WriteLine("measuring proxied bulk…");
            results.Add(new("proxied bulk", await BulkAsync(await a.NewProxiedStreamAsync(b.Id, cancellationToken), b, bulkBytes, cancellationToken), "MB/s"));

            progress.WriteLine("measuring direct bulk…");
            await a.NewChannelAsync(b.Id, cancellationToken);
            results.Add(new("direct bulk", await BulkAsync(await a.NewDirectStreamAsync(b.Id, cancellationToken), b, bulkBytes, cancellationToken), "MB/s"));

            progress.WriteLine("measuring broadcast fan-out to 10 receivers…");
            var receivers = new List<Client>();
            for (var i = 0; i < 10; i++)
            {
                receivers.Add(await ConnectAsync($"r{i}"));
            }

            results.Add(new("broadcast 1 KiB to 10, with sender ids", await FanOutAsync(a, receivers, $"{run}-fan", messages, cancellationToken), "msg/s"));

            progress.WriteLine("measuring RPC…");
            var (one, many) = await RpcAsync(a, b, calls, cancellationToken);
            results.Add(new("RPC, 1 call in flight", one, "calls/s"));
            results.Add(new("RPC, 64 calls in flight", many, "calls/s"));
            return results;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            foreach (var identity in identities)
            {
                identity.Dispose();
            }
        }
    }

    public static void PrintTable(IReadOnlyList<Result> results, TextWriter output)
    {
        output.WriteLine($"{"benchmark",-40} {"value",14}  unit");
        foreach (var result in results)
        {
            output.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{result.Name,-40} {result.Value,14:N1}  {result.Unit}"));
        }
    }

    public static void PrintJson(IReadOnlyList<Result> results, Stream output)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (var result in results)
        {
            json.WriteStartObject();
            json.WriteString("name", result.Name);
            json.WriteNumber("value", Math.Round(result.Value, 3));
            json.WriteString("unit", result.Unit);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static async Task<double> BulkAsync(StreamPair pair, Client receiver, long bytes, CancellationToken cancellationToken)
    {
        await using var incoming = receiver.IncomingStreams.GetAsyncEnumerator(cancellationToken);
        await incoming.MoveNextAsync();
        var clock = Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            long total = 0;
            while (await incoming.Current.Receive.ReadSequenceAsync(cancellationToken) is { } message)
            {
                total += message.Length;
            }

            return total;
        }, cancellationToken);
        var block = new byte[BulkMessage];
        for (long sent = 0; sent < bytes; sent += BulkMessage)
        {
            await pair.Send.SendAsync(block, cancellationToken);
        }

        await pair.Send.FinishAsync(cancellationToken);
        return await reading / clock.Elapsed.TotalSeconds / 1e6;
    }

    /// <summary>
    /// Messages delivered per second, each receiver reading through <see cref="TaggedBroadcastInStream"/> (sender,
    /// payload, lost), the reader applications use, rather than the raw bytes with the sender tag unparsed.
    /// </summary>
    private static async Task<double> FanOutAsync(Client sender, List<Client> receivers, string channel, int count, CancellationToken cancellationToken)
    {
        var members = new List<StreamPair>();
        foreach (var receiver in receivers)
        {
            members.Add(await receiver.NewBroadcastAsync(channel, cancellationToken: cancellationToken));
        }

        var (send, ownEcho) = await sender.NewBroadcastAsync(channel, cancellationToken: cancellationToken);
        await ownEcho.DisposeAsync();
        foreach (var member in members)
        {
            await member.Send.FinishAsync(cancellationToken);
        }

        var reading = members.Select(m => Task.Run(async () =>
        {
            var received = 0;
            await foreach (var _ in new TaggedBroadcastInStream(m.Receive).WithCancellation(cancellationToken))
            {
                received++;
            }

            return received;
        }, cancellationToken)).ToArray();
        var payload = new byte[1024];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await send.SendAsync(payload, cancellationToken);
        }

        await send.FinishAsync(cancellationToken);
        var delivered = (await Task.WhenAll(reading)).Sum();
        return delivered / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double One, double Many)> RpcAsync(Client caller, Client server, int calls, CancellationToken cancellationToken)
    {
        var pair = await caller.NewProxiedStreamAsync(server.Id, cancellationToken);
        await using var incoming = server.IncomingStreams.GetAsyncEnumerator(cancellationToken);
        await incoming.MoveNextAsync();
        var serving = LobbyServer.ServeAsync(new Dice(), incoming.Current, cancellationToken: cancellationToken);
        await using (var lobby = new LobbyClient(pair))
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < calls / 10; i++)
            {
                await lobby.Roll(6, cancellationToken);
            }

            var one = calls / 10 / clock.Elapsed.TotalSeconds;
            var next = 0;
            clock.Restart();
            await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) <= calls)
                {
                    await lobby.Roll(6, cancellationToken);
                }
            }, cancellationToken)));
            var many = calls / clock.Elapsed.TotalSeconds;
            await lobby.DisposeAsync();
            await serving;
            return (one, many);
        }
    }
}
