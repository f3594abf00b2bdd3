using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Benchmarks;

/// <summary>
/// The broadcast of the load rows in a process of its own, as a deployment has it: one sender and
/// <c>members - 1</c> listeners reading everything, driven over standard input (<c>flat</c>, <c>half</c>,
/// <c>stop</c>, <c>exit</c>), so the echo the benchmark times shares the machine with it but not a thread pool.
/// </summary>
internal static class BroadcastLoadProcess
{
    public const string Mode = "broadcast-child";

    private const int Message = 1024;

    /// <summary>
    /// The child: joins, says <c>ready</c>; <c>flat</c> sends as fast as the slowest member allows, <c>half N</c>
    /// sends N messages a second in 10 ms bursts, <c>stop</c> ends either and answers <c>sent S delivered D seconds T</c>.
    /// </summary>
    public static async Task RunAsync(string coordinatorCertificatePath, int port, int members)
    {
        var authority = X509CertificateLoader.LoadCertificateFromFile(coordinatorCertificatePath);
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        await using var sender = await ConnectAsync(endPoint, authority, "broadcaster");
        var (send, own) = await sender.NewBroadcastAsync("load");
        var listeners = new List<Client>();
        var reading = new List<Task>();
        var delivered = 0L;
        for (var i = 0; i < members - 1; i++)
        {
            var listener = await ConnectAsync(endPoint, authority, $"member{i}");
            listeners.Add(listener);
            var (writes, reads) = await listener.NewBroadcastAsync("load");
            await writes.FinishAsync();
            reading.Add(Task.Run(async () =>
            {
                while (await reads.ReadSequenceAsync() is not null)
                {
                    Interlocked.Increment(ref delivered);
                }
            }));
        }

        // The sender joined first and lets its own copy go last: a broadcast with no reader left ends.
        await own.DisposeAsync();
        Console.WriteLine("ready");
        var payload = new byte[Message];
        while (await Console.In.ReadLineAsync() is { } command && command != "exit")
        {
            using var stop = new CancellationTokenSource();
            var perSecond = command.StartsWith("half ", StringComparison.Ordinal) ? double.Parse(command[5..], CultureInfo.InvariantCulture) : 0;
            var sent = 0L;
            var before = Interlocked.Read(ref delivered);
            var clock = Stopwatch.StartNew();
            var sending = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
                while (!stop.IsCancellationRequested)
                {
                    var burst = perSecond > 0 ? Math.Max(1, (int)(perSecond / 100)) : int.MaxValue;
                    for (var i = 0; i < burst && !stop.IsCancellationRequested; i++)
                    {
                        await send.SendAsync(payload);
                        sent++;
                    }

                    if (perSecond > 0)
                    {
                        await timer.WaitForNextTickAsync(CancellationToken.None);
                    }
                }
            });
            Console.WriteLine("started");
            if (await Console.In.ReadLineAsync() != "stop")
            {
                throw new InvalidOperationException("The broadcast child expected 'stop'.");
            }

            await stop.CancelAsync();
            await sending;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sent {sent} delivered {Interlocked.Read(ref delivered) - before} seconds {clock.Elapsed.TotalSeconds}"));
        }

        await send.FinishAsync();
        await Task.WhenAll(reading);
        foreach (var listener in listeners)
        {
            await listener.DisposeAsync();
        }
    }

    private static Task<Client> ConnectAsync(IPEndPoint endPoint, X509Certificate2 authority, string id) =>
        Client.ConnectAsync(new ClientConfig(id, "localhost")
        {
            CoordinatorEndPoint = endPoint,
            CoordinatorAuthority = authority,
            TrustSystemRoots = false,
            Transport = CoordinationBenchmark.Transport,
        });
}
