using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Transport;

namespace Conec.Benchmarks;

/// <summary>
/// One client process of the scale benchmark: a share of its clients, each with its own identity, made here in
/// parallel at start (<c>ready seconds</c>) so twenty thousand of them cost seconds instead of a minute in one process.
/// Making an identity includes its TLS certificate context (built once per certificate and cached), which both
/// storms then share, as a deployed client has its identity ready before it connects.
/// The parent drives it over standard input and output, one answer a line:
/// <c>tls PORT N</c> and <c>connect PORT</c> run a connect storm (bare TLS to the baseline server, or Conec clients to the
/// coordinator) and answer <c>connected</c> with an <see cref="OutcomeTally"/>; <c>tls-close</c> closes the TLS
/// connections; <c>status</c> says how many clients are still connected (<c>alive</c>); <c>join CHANNEL M</c> joins
/// every client to a broadcast (<c>joined</c>), and later says <c>received N</c> once each has M messages;
/// <c>leave</c> waits for the broadcast's end; <c>exit</c> or the end of input disposes everything.
/// </summary>
internal sealed class ScaleClients : IAsyncDisposable
{
    public const string Mode = "scale-clients-child";

    private readonly X509Certificate2 _authority;
    private readonly string[] _ids;
    private readonly X509Certificate2[] _identities;
    private readonly TransportClientTls[] _tlsSides;
    private readonly int _concurrency;
    private readonly Client?[] _clients;
    private readonly List<IAsyncDisposable> _tls = [];
    private readonly OutcomeTally _lost = new();
    private readonly List<Task> _readers = [];
    private Task _receiving = Task.CompletedTask;

    private ScaleClients(X509Certificate2 authority, string[] ids, X509Certificate2[] identities, TransportClientTls[] tlsSides, int concurrency)
    {
        _authority = authority;
        _ids = ids;
        _identities = identities;
        _tlsSides = tlsSides;
        _concurrency = concurrency;
        _clients = new Client?[ids.Length];
    }

    /// <summary>Client ids of the scale benchmark: DNS names, each the only name in its client's certificate.</summary>
    public static string Id(int index) => string.Create(CultureInfo.InvariantCulture, $"scale{index}");

    /// <summary>The child's side: identities for clients <paramref name="first"/> onwards, then one command a line.</summary>
    public static async Task RunAsync(string authorityPath, string first, string count, string concurrency)
    {
        var clock = Stopwatch.StartNew();
        var start = int.Parse(first, CultureInfo.InvariantCulture);
        var ids = Enumerable.Range(start, int.Parse(count, CultureInfo.InvariantCulture)).Select(Id).ToArray();
        var authority = ConecCertificates.Load(authorityPath);
        var identities = new X509Certificate2[ids.Length];
        var tlsSides = new TransportClientTls[ids.Length];
        Parallel.For(0, ids.Length, i =>
        {
            identities[i] = ConecCertificates.CreateSelfSigned(ids[i]);
            tlsSides[i] = new TransportClientTls("localhost", identities[i]) { TrustedAuthorities = [authority], TrustSystemRoots = false };
        });
        await using var clients = new ScaleClients(authority, ids, identities, tlsSides, int.Parse(concurrency, CultureInfo.InvariantCulture));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready {clock.Elapsed.TotalSeconds:0.000}"));
        while (await Console.In.ReadLineAsync() is { } command && command != "exit")
        {
            Console.WriteLine(await clients.AnswerAsync(command));
        }
    }

    private async Task<string> AnswerAsync(string command)
    {
        switch (command.Split(' '))
        {
            case ["tls", var port, var howMany]:
                var tls = new IAsyncDisposable?[int.Parse(howMany, CultureInfo.InvariantCulture)];
                var tlsOutcome = await StormAsync(tls.Length, async i => tls[i] = await CoordinationBenchmark.ConnectTlsAsync(EndPoint(port), _tlsSides[i]));
                _tls.AddRange(tls.OfType<IAsyncDisposable>());
                return tlsOutcome;
            case ["tls-close"]:
                await Task.WhenAll(_tls.Select(c => c.DisposeAsync().AsTask()));
                _tls.Clear();
                return "closed";
            case ["connect", var port]:
                // No direct-channel listener: it would double each client's descriptors and take a second loopback
                // port per client, and 20,000 clients already use most of the 28,232 ephemeral ports.
                return await StormAsync(_ids.Length, async i =>
                {
                    var client = await CoordinationBenchmark.ConnectAsync(EndPoint(port), _authority, _ids[i], _identities[i], TransportMode.Tcp, listen: false);
                    client.Disconnected += (_, e) => _lost.Fail(e.Reason.Error.ToString());
                    _clients[i] = client;
                });
            case ["status"]:
                var status = new OutcomeTally(_clients.Count(c => c is not null) - _lost.Failed);
                status.Add(_lost);
                return status.Format("alive", 0);
            case ["join", var channel, var messages]:
                return await JoinAsync(channel, int.Parse(messages, CultureInfo.InvariantCulture));
            case ["leave"]:
                await Task.WhenAll(_readers);
                await _receiving;
                return "left";
            default:
                return $"unknown command '{command}'";
        }
    }

    private static IPEndPoint EndPoint(string port) => new(IPAddress.Loopback, int.Parse(port, CultureInfo.InvariantCulture));

    /// <summary>
    /// Runs <paramref name="connect"/> for indices 0 to <paramref name="count"/> − 1, <see cref="_concurrency"/> at a
    /// time; a refused or failed connection is counted under its reason, and the storm goes on.
    /// </summary>
    private async Task<string> StormAsync(int count, Func<int, Task> connect)
    {
        var outcome = new OutcomeTally();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, _concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                try
                {
                    await connect(i);
                    outcome.Succeed();
                }
                catch (Exception e) when (e is ConecException or IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
                {
                    outcome.Fail(OutcomeTally.ReasonOf(e));
                }
            }
        })));
        return outcome.Format("connected", clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Joins every connected client to <paramref name="channel"/> as a reader only, <see cref="_concurrency"/> at a
    /// time, and answers once all have joined; a background task says <c>received N</c> once each has
    /// <paramref name="messages"/> messages (or <c>failed …</c>).
    /// </summary>
    private async Task<string> JoinAsync(string channel, int messages)
    {
        var members = _clients.OfType<Client>().ToArray();
        var gotAll = members.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var readers = new Task[members.Length];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, _concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < members.Length; i = Interlocked.Increment(ref next))
            {
                var (writes, reads) = await members[i].NewBroadcastAsync(channel);
                await writes.FinishAsync();
                readers[i] = ReadAsync(reads, messages, gotAll[i]);
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        _readers.AddRange(readers);
        _receiving = ReportReceivedAsync(gotAll.Select(g => g.Task).ToArray());
        return string.Create(CultureInfo.InvariantCulture, $"joined {members.Length} {seconds:0.000}");
    }

    /// <summary>Reads one member's broadcast to its end; <paramref name="gotAll"/> completes at the <paramref name="messages"/>th message.</summary>
    private static async Task ReadAsync(InStream reads, int messages, TaskCompletionSource gotAll)
    {
        var got = 0;
        try
        {
            while (await reads.ReadSequenceAsync() is not null)
            {
                if (++got == messages)
                {
                    gotAll.TrySetResult();
                }
            }
        }
        catch (ConecException e)
        {
            gotAll.TrySetException(e);
            throw;
        }

        gotAll.TrySetException(new InvalidOperationException($"The broadcast ended after {got} of {messages} messages."));
    }

    private static async Task ReportReceivedAsync(Task[] gotAll)
    {
        try
        {
            await Task.WhenAll(gotAll);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"received {gotAll.Length}"));
        }
        catch (Exception e) when (e is ConecException or InvalidOperationException)
        {
            // The parent waits for this line: it learns of the failure now, and the process's exit code says it too.
            Console.WriteLine($"failed {OutcomeTally.ReasonOf(e)}: {e.Message}");
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_tls.Select(c => c.DisposeAsync().AsTask()));
        await Task.WhenAll(_clients.OfType<Client>().Select(c => c.DisposeAsync().AsTask()));
    }
}
