using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// A caller in a child process, for the paused-reader rows: what the caller's process holds is measured apart from
/// the servers, which stay in the benchmark's process (the coordinator, client "bench-b" and the gRPC server). The
/// parent names a target on standard input (an <see cref="EchoPath"/> or <c>grpc</c>); the child runs
/// <see cref="EchoRuns.PausedReaderAsync"/> over a new stream or call, after a short unmeasured one, and answers
/// <c>held N paused M</c>; <c>exit</c> stops it.
/// </summary>
internal sealed class TypedCallerProcess : IAsyncDisposable
{
    public const string Mode = "typed-caller-child";
    public const string Grpc = "grpc";

    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(250);

    private readonly Process _process;
    private readonly string _directory;

    private TypedCallerProcess(Process process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    public static async Task<TypedCallerProcess> StartAsync(BenchmarkCertificates certificates, ConecEchoRig rig, GrpcEchoHost grpc)
    {
        // The child trusts the servers' certificate as the parent's callers do; it needs no key.
        var directory = Directory.CreateTempSubdirectory("conec-bench-").FullName;
        var certificatePath = Path.Combine(directory, "server.pem");
        ConecCertificates.Save(certificates.ServerCertificate, certificatePath);
        var process = CoordinatorProcess.StartSelf(Mode, certificatePath,
            rig.CoordinatorPort.ToString(CultureInfo.InvariantCulture), CoordinationBenchmark.Transport.ToString(), rig.PeerId,
            grpc.Port.ToString(CultureInfo.InvariantCulture));
        var line = await process.StandardOutput.ReadLineAsync();
        if (line != "ready")
        {
            throw new InvalidOperationException($"The caller process said '{line}' at start.");
        }

        return new TypedCallerProcess(process, directory);
    }

    /// <summary>What the child holds for a paused result (see <see cref="EchoRuns.PausedReaderAsync"/>).</summary>
    public async Task<(long Held, long DuringPause)> PausedReaderAsync(string target)
    {
        await _process.StandardInput.WriteLineAsync(target);
        var line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The caller process exited.");
        var parts = line.Split(' ');
        return parts is ["held", var held, "paused", var paused]
            ? (long.Parse(held, CultureInfo.InvariantCulture), long.Parse(paused, CultureInfo.InvariantCulture))
            : throw new InvalidOperationException($"The caller process said '{line}'.");
    }

    public async ValueTask DisposeAsync()
    {
        await _process.StandardInput.WriteLineAsync("exit");
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// The child's side: client "bench-caller" of the parent's coordinator and one channel to the parent's gRPC
    /// server, then one paused-reader run per line read.
    /// </summary>
    public static async Task RunAsync(string certificatePath, string coordinatorPort, string transport, string peer, string grpcPort)
    {
        var authority = ConecCertificates.Load(certificatePath);
        await using var caller = await Client.ConnectAsync(new ClientConfig("bench-caller", "localhost")
        {
            CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, int.Parse(coordinatorPort, CultureInfo.InvariantCulture)),
            CoordinatorAuthority = authority,
            TrustSystemRoots = false,
            Transport = Enum.Parse<TransportMode>(transport),
        });
        using var channel = GrpcEchoHost.CreateChannel(int.Parse(grpcPort, CultureInfo.InvariantCulture), authority);
        await channel.ConnectAsync(); // the connection is there before anything is measured, as Conec's is
        var direct = false;
        Console.WriteLine("ready");
        while (await Console.In.ReadLineAsync() is { } target && target != "exit")
        {
            if (target != Grpc && Enum.Parse<EchoPath>(target) == EchoPath.Direct && !direct)
            {
                await caller.NewChannelAsync(peer);
                direct = true;
            }

            // One short unmeasured run first, so that code, caches and pools are as a running process has them.
            await using (var warmUp = await OpenAsync(target))
            {
                await EchoRuns.PausedReaderAsync(warmUp, WarmUpPause);
            }

            await using var echo = await OpenAsync(target);
            var (held, duringPause) = await EchoRuns.PausedReaderAsync(echo, EchoRuns.Pause);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held {held} paused {duringPause}"));
        }

        async Task<IEchoCaller> OpenAsync(string target) => target == Grpc
            ? new GrpcEchoCaller(channel)
            : new ConecEchoCaller(await ConecEchoRig.OpenStreamAsync(caller, Enum.Parse<EchoPath>(target), peer));
    }
}
