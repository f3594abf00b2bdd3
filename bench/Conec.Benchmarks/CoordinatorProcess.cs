using System.Diagnostics;
using System.Globalization;
using System.Net;
using Conec.Certificates;

namespace Conec.Benchmarks;

/// <summary>
/// A coordinator in a child process, so its memory can be measured apart from the clients'. The parent talks to it
/// over standard input and output: the child prints <c>port N</c>, answers <c>measure</c> with its managed heap and
/// resident private bytes after a full collection, a coordinator also <see cref="CoordinatorCommands"/>' commands,
/// and stops on <c>exit</c>.
/// </summary>
internal sealed class CoordinatorProcess : IAsyncDisposable
{
    private readonly Process _process;

    private CoordinatorProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// The child's user plus system time so far, which .NET reads from <c>/proc/&lt;pid&gt;/stat</c> on Linux
    /// (utime and stime, converted with the kernel's clock tick).
    /// </summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The child mode of a coordinator that echoes every stream opened to it (the latency rows); its argument after the key names the transport.</summary>
    public const string EchoMode = "coord-echo-child";

    /// <summary>
    /// Starts a child of <paramref name="mode"/> (a coordinator, or another server that prints <c>port N</c> the
    /// same way) with the key pair and <paramref name="more"/> arguments; a child that does not say its port in
    /// time is killed.
    /// </summary>
    public static async Task<CoordinatorProcess> StartAsync(string mode, string certificatePath, string keyPath, params string[] more)
    {
        var process = StartSelf([mode, certificatePath, keyPath, .. more]);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync().WithinAsync(Deadline.Setup, $"The {mode} process's start")
                ?? throw new InvalidOperationException($"The {mode} process exited at start.");
            return line.Split(' ') is ["port", var port]
                ? new CoordinatorProcess(process, int.Parse(port, CultureInfo.InvariantCulture))
                : throw new InvalidOperationException($"The {mode} process said '{line}' at start.");
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>This benchmark again, in a child process with <paramref name="arguments"/>, its standard input and output redirected.</summary>
    internal static Process StartSelf(params string[] arguments)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's own path is unknown.");
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(CoordinatorProcess).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"Could not start the {arguments[0]} process.");
    }

    /// <summary>
    /// Live managed bytes, private bytes, and bytes the GC has committed, after a full compacting collection.
    /// Private bytes are resident ones: see <see cref="ResidentPrivateBytes"/>.
    /// </summary>
    /// <summary>Thread-pool work items the child has run so far (<see cref="ThreadPool.CompletedWorkItemCount"/>): its thread hops.</summary>
    public async Task<long> CompletedWorkItemsAsync()
    {
        await _process.StandardInput.WriteLineAsync("workitems");
        var line = await _process.StandardOutput.ReadLineAsync().WithinAsync(Deadline.Stop, "The child's work item count");
        return long.Parse(line!.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    public async Task<(long Managed, long Private, long Committed)> MeasureAsync()
    {
        var parts = (await AskAsync("measure", Deadline.Run, "A measurement")).Split(' ');
        return (Parse(parts[1]), Parse(parts[3]), Parse(parts[5]));

        static long Parse(string text) => long.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>Sends <paramref name="command"/> and returns the child's one-line answer, failing after <paramref name="limit"/>.</summary>
    public async Task<string> AskAsync(string command, TimeSpan limit, string what)
    {
        await _process.StandardInput.WriteLineAsync(command);
        var line = await _process.StandardOutput.ReadLineAsync().WithinAsync(limit, what)
            ?? throw new InvalidOperationException($"The child process exited before answering '{command}'.");
        return line.StartsWith("unknown ", StringComparison.Ordinal) ? throw new InvalidOperationException($"The child process said '{line}'.") : line;
    }

    /// <summary>Tells the child to exit, and kills it if it has not within <see cref="Deadline.Stop"/> (a hung child must not hang the benchmark).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("exit");
                await _process.WaitForExitAsync().WithinAsync(Deadline.Stop, "The child process's exit");
            }
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }

    /// <summary>
    /// The child's side: runs a coordinator on loopback (TCP unless told otherwise) until told to exit; with
    /// <paramref name="echo"/>, it sends back every message of every stream opened to it (<see cref="RawEcho"/>).
    /// </summary>
    public static async Task RunCoordinatorAsync(string certificatePath, string keyPath, TransportMode transport = TransportMode.Tcp, bool echo = false)
    {
        await using var coord = await Coord.StartAsync(new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            CertificatePath = certificatePath,
            KeyPath = keyPath,
            Transport = transport,
        });
        await using var serving = echo ? new StreamServing((stream, stopping) => RawEcho.ServeAsync(stream.Send, stream.Receive, stopping), coord.IncomingStreams) : null;
        using var commands = new CoordinatorCommands(coord);
        await ServeMeasurementsAsync(coord.LocalEndPoint.Port, commands.AnswerAsync);
    }

    /// <summary>
    /// The baseline child: a bare TLS 1.3 server with the same certificate and client-certificate check, holding
    /// every accepted connection idle with a zero-byte read pending (what a well-written TLS server keeps per peer).
    /// Handshakes run concurrently, as on the coordinator's TCP listener: each accepted socket's handshake on its own
    /// task, with no limit on how many run at once, each bounded by the coordinator's handshake timeout, and the same
    /// listen backlog.
    /// </summary>
    public static async Task RunTlsServerAsync(string certificatePath, string keyPath)
    {
        var certificate = ConecCertificates.Load(certificatePath, keyPath);
        var tls = new Transport.TransportServerTls(certificate, null, c => CertificatePolicy.CheckPeer(c, null));
        var timeout = new CoordConfig().HelloTimeout; // the coordinator's handshake timeout (its TransportSettings.HandshakeTimeout)
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 512); // as TcpTransportListener
        var held = new List<System.Net.Security.SslStream>();
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync();
                _ = HandshakeAsync(socket, tls, timeout, held);
            }
        });
        await ServeMeasurementsAsync(((IPEndPoint)listener.LocalEndpoint).Port);
        GC.KeepAlive(accepting);
    }

    /// <summary>One baseline handshake; never throws: a failed or timed-out handshake closes its socket.</summary>
    private static async Task HandshakeAsync(
        System.Net.Sockets.Socket socket, Transport.TransportServerTls tls, TimeSpan timeout, List<System.Net.Security.SslStream> held)
    {
        var ssl = new System.Net.Security.SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await ssl.AuthenticateAsServerAsync(Transport.TransportTls.ServerOptions(tls, new Transport.HandshakeFailure()), deadline.Token);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException)
        {
            await ssl.DisposeAsync();
            return;
        }

        lock (held)
        {
            held.Add(ssl);
        }

        _ = ssl.ReadAsync(Memory<byte>.Empty).AsTask();
    }

    /// <summary>
    /// The child's side of the conversation: says <c>port N</c>, answers <c>measure</c>, <c>workitems</c> and what
    /// <paramref name="answer"/> knows (<c>unknown …</c> otherwise), returns on <c>exit</c> or at the end of input (the parent gone).
    /// </summary>
    internal static async Task ServeMeasurementsAsync(int port, Func<string, Task<string?>>? answer = null)
    {
        Console.WriteLine($"port {port}");
        while (await Console.In.ReadLineAsync() is { } command && command != "exit")
        {
            if (command == "workitems")
            {
                Console.WriteLine($"workitems {ThreadPool.CompletedWorkItemCount}");
                continue;
            }

            if (command != "measure")
            {
                Console.WriteLine((answer is null ? null : await answer(command)) ?? $"unknown command '{command}'");
                continue;
            }

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var committed = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
            Console.WriteLine($"managed {GC.GetTotalMemory(true)} private {ResidentPrivateBytes()} committed {committed}");
        }
    }

    /// <summary>
    /// Memory the process really holds for itself. On Linux, <see cref="Process.PrivateMemorySize64"/> is the
    /// kernel's VmData: address space, counting each thread's whole reserved stack and every malloc arena's mapped
    /// extent whether touched or not, so one extra thread-pool thread moves it by megabytes. RssAnon (resident
    /// anonymous pages, GC heap included) is what the peers cost. Elsewhere the platform's private bytes are used.
    /// </summary>
    private static long ResidentPrivateBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    // "RssAnon:    123456 kB"
                    return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        using var self = Process.GetCurrentProcess();
        return self.PrivateMemorySize64;
    }
}
