using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Cli;

/// <summary>
/// `conec demo`: a coordinator and three clients in one process, on loopback, with a development certificate made at
/// start. It shows a relayed stream, a direct channel, a typed broadcast chat and RPC, then a summary.
/// </summary>
internal static class Demo
{
    private const int BulkMessage = 64 * 1024;

    /// <summary>What the demo measured.</summary>
    public sealed record Summary(int Messages, double DirectMegabytesPerSecond, double RpcP50Microseconds, string Transport);

    public static async Task<Summary> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        output.WriteLine("Conec demo: one coordinator and three clients (alice, bob, carol) on loopback, TLS 1.3 with a development certificate made just now.");
        var certificate = ConecCertificates.CreateSelfSigned("localhost");
        await using var coord = await Coord.StartAsync(new CoordConfig { Address = IPAddress.Loopback, Port = 0, Certificate = certificate }, cancellationToken);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        await using var alice = await ConnectAsync("alice", endPoint, certificate, cancellationToken);
        await using var bob = await ConnectAsync("bob", endPoint, certificate, cancellationToken);
        await using var carol = await ConnectAsync("carol", endPoint, certificate, cancellationToken);
        output.WriteLine($"  coordinator on {endPoint}, {coord.ClientCount} clients joined over {alice.Transport}.");
        var messages = 0;

        // 1. A stream relayed by the coordinator: bob answers in capitals.
        var (toBob, fromBob) = await alice.NewProxiedStreamAsync("bob", cancellationToken);
        var incoming = await NextAsync(bob.IncomingStreams, cancellationToken);
        var echo = Task.Run(async () =>
        {
            await foreach (var message in incoming.Receive.WithCancellation(cancellationToken))
            {
                await incoming.Send.SendAsync(System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(message.Span).ToUpperInvariant()), cancellationToken);
            }

            await incoming.Send.FinishAsync(cancellationToken);
        }, cancellationToken);
        await toBob.SendAsync("hello bob"u8.ToArray(), cancellationToken);
        var answer = System.Text.Encoding.UTF8.GetString((await fromBob.ReadAsync(cancellationToken))!);
        await toBob.FinishAsync(cancellationToken);
        await echo;
        messages += 2;
        output.WriteLine($"1. relayed stream   {incoming.Peer} -> coordinator -> bob: \"hello bob\", answered \"{answer}\"");

        // 2. A direct channel brokered by the coordinator, each side's certificate pinned; 32 MiB with back-pressure.
        await alice.NewChannelAsync("carol", cancellationToken);
        var (toCarol, _) = await alice.NewDirectStreamAsync("carol", cancellationToken);
        var atCarol = await NextAsync(carol.IncomingStreams, cancellationToken);
        var clock = Stopwatch.StartNew();
        var receiving = Task.Run(async () =>
        {
            long bytes = 0;
            while (await atCarol.Receive.ReadSequenceAsync(cancellationToken) is { } chunk)
            {
                bytes += chunk.Length;
            }

            return bytes;
        }, cancellationToken);
        var block = new byte[BulkMessage];
        for (var i = 0; i < 512; i++)
        {
            await toCarol.SendAsync(block, cancellationToken);
        }

        await toCarol.FinishAsync(cancellationToken);
        var received = await receiving;
        var megabytesPerSecond = received / clock.Elapsed.TotalSeconds / 1e6;
        messages += 512;
        output.WriteLine($"2. direct channel   {atCarol.Peer} -> carol, certificates pinned, no coordinator in the path: {received / (1024 * 1024)} MiB at {megabytesPerSecond:N0} MB/s");

        // 3. A typed broadcast chat: generated sender and reader; the coordinator stamps every line with its sender.
        var members = new[] { alice, bob, carol };
        var joined = new List<StreamPair>();
        foreach (var member in members)
        {
            joined.Add(await member.NewBroadcastAsync("lobby", cancellationToken: cancellationToken));
        }

        var hearing = new LobbyBroadcastReader(joined[0].Receive);
        for (var i = 0; i < members.Length; i++)
        {
            await new LobbySender(joined[i].Send).Say(new ChatLine($"hi, I am {members[i].Id}"));
            var (sender, line) = (await hearing.ReceiveAsync(cancellationToken))!.Value;
            output.WriteLine($"3. typed broadcast  [lobby] {sender}: {((LobbyMessage.Say)line).Line.Text}");
        }

        messages += members.Length * members.Length;

        // 4. RPC: bob serves ILobby; alice calls it through the coordinator, 1,000 times.
        var (callSend, callReceive) = await alice.NewStreamAsync("bob", cancellationToken);
        var served = await NextAsync(bob.IncomingStreams, cancellationToken);
        var serving = LobbyServer.ServeAsync(new Dice(), served, cancellationToken: cancellationToken);
        var latencies = new double[1000];
        await using (var lobby = new LobbyClient(new StreamPair(callSend, callReceive)))
        {
            for (var i = 0; i < latencies.Length; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await lobby.Roll(6, cancellationToken);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            output.WriteLine($"4. RPC              alice asks bob to roll a die: {await lobby.Roll(6, cancellationToken)} ({served.Kind.ToString().ToLowerInvariant()} stream: NewStreamAsync made a channel to bob)");
        }

        await serving;
        Array.Sort(latencies);
        messages += 2 * latencies.Length;
        var summary = new Summary(messages, megabytesPerSecond, latencies[latencies.Length / 2], alice.Transport.ToString());
        output.WriteLine();
        output.WriteLine($"Summary: {summary.Messages:N0} messages; direct {summary.DirectMegabytesPerSecond:N0} MB/s; RPC p50 {summary.RpcP50Microseconds:N0} us, p99 {latencies[(int)(latencies.Length * 0.99)]:N0} us; transport {summary.Transport}.");
        output.WriteLine(WhereToLook(Environment.CurrentDirectory));
        foreach (var pair in joined)
        {
            await pair.Send.FinishAsync(cancellationToken);
        }

        return summary;
    }

    /// <summary>
    /// Where to read next. An installed tool has no sources beside it, so code paths are named only when
    /// <paramref name="directory"/> is a Conec checkout (as under `dotnet run --project src/Conec.Cli`).
    /// </summary>
    internal static string WhereToLook(string directory) =>
        File.Exists(Path.Combine(directory, "src", "Conec.Cli", "Demo.cs"))
            ? "Where to look: src/Conec.Cli/Demo.cs (this demo), src/Conec.Cli/LobbyContract.cs (the typed contract), docs/getting-started.md."
            : "Where to look: docs/getting-started.md in the Conec repository (this demo, a two-terminal chat, your own typed service).";

    private static Task<Client> ConnectAsync(string id, IPEndPoint endPoint, X509Certificate2 coordinator, CancellationToken cancellationToken) =>
        Client.ConnectAsync(new ClientConfig(id, "localhost")
        {
            CoordinatorEndPoint = endPoint,
            CoordinatorAuthority = coordinator,
            TrustSystemRoots = false,
        }, cancellationToken);

    private static async Task<IncomingStream> NextAsync(IAsyncEnumerable<IncomingStream> streams, CancellationToken cancellationToken)
    {
        await using var enumerator = streams.GetAsyncEnumerator(cancellationToken);
        return await enumerator.MoveNextAsync() ? enumerator.Current : throw new ConecException(ConecError.ConnectionClosed, "The client stopped receiving streams.");
    }
}
