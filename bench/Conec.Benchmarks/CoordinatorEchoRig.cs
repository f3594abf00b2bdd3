using System.Net;

namespace Conec.Benchmarks;

/// <summary>
/// Conec's side of the latency rows: a coordinator in a child process that echoes every stream opened to it
/// (<see cref="CoordinatorProcess.EchoMode"/>), and three of its clients in this process: "bench-a", which calls;
/// <see cref="RawPeer"/>, which echoes every stream raw (<see cref="RawEcho"/>); and <see cref="TypedPeer"/>, which
/// serves <see cref="IEcho"/> with a generated <c>EchoServer</c>. Two peers, so that each stream is served as its row needs.
/// </summary>
internal sealed class CoordinatorEchoRig : IAsyncDisposable
{
    public const string RawPeer = "bench-raw";
    public const string TypedPeer = "bench-typed";

    private readonly CoordinatorProcess _coordinator;
    private readonly Client _caller;
    private readonly Client _raw;
    private readonly Client _typed;
    private readonly StreamServing _rawServing;
    private readonly StreamServing _typedServing;

    private CoordinatorEchoRig(CoordinatorProcess coordinator, Client caller, Client raw, Client typed)
    {
        _coordinator = coordinator;
        _caller = caller;
        _raw = raw;
        _typed = typed;
        _rawServing = new StreamServing((stream, stopping) => RawEcho.ServeAsync(stream.Send, stream.Receive, stopping), raw.IncomingStreams);
        _typedServing = new StreamServing((stream, stopping) => EchoServer.ServeAsync(new EchoService(), stream, stopping), typed.IncomingStreams);
    }

    public static async Task<CoordinatorEchoRig> StartAsync(BenchmarkCertificates certificates, string certificatePath, string keyPath)
    {
        var coordinator = await CoordinatorProcess.StartAsync(
            CoordinatorProcess.EchoMode, certificatePath, keyPath, CoordinationBenchmark.Transport.ToString());
        var clients = new List<Client>();
        try
        {
            var endPoint = new IPEndPoint(IPAddress.Loopback, coordinator.Port);
            foreach (var id in (string[])["bench-a", RawPeer, TypedPeer])
            {
                clients.Add(await CoordinationBenchmark.ConnectAsync(endPoint, certificates, id).WithinAsync(Deadline.Setup, $"Connecting client {id}"));
            }

            return new CoordinatorEchoRig(coordinator, clients[0], clients[1], clients[2]);
        }
        catch
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            await coordinator.DisposeAsync();
            throw;
        }
    }

    /// <summary>Raw round trips relayed by the coordinator to <see cref="RawPeer"/> (<c>NewProxiedStreamAsync(peer)</c>): two hops.</summary>
    public Task<double[]> ProxiedAsync(int calls) =>
        RawEcho.RunAsync(() => _caller.NewProxiedStreamAsync(RawPeer), calls).WithinAsync(Deadline.Run, "A proxied echo run");

    /// <summary>Raw round trips on a stream to the coordinator (<c>NewProxiedStreamAsync(null)</c>), echoed on its <c>IncomingStreams</c>: one hop.</summary>
    public Task<double[]> ToCoordinatorAsync(int calls) =>
        RawEcho.RunAsync(() => _caller.NewProxiedStreamAsync(null), calls).WithinAsync(Deadline.Run, "An echo run with the coordinator");

    /// <summary>Generated <c>IEcho.Echo</c> calls relayed by the coordinator to <see cref="TypedPeer"/>: two hops, as <see cref="ProxiedAsync"/>.</summary>
    public Task<double[]> TypedAsync(int calls) =>
        EchoRuns.OneAtATimeAsync(async () => new ConecEchoCaller(await _caller.NewProxiedStreamAsync(TypedPeer)), calls)
            .WithinAsync(Deadline.Run, "A typed RPC run");

    /// <summary>
    /// Thread-pool work items per round trip of <paramref name="run"/>, in this process (the caller and the echoing
    /// client together) and in the coordinator's: how many times a round trip hops threads.
    /// </summary>
    public async Task<(double Clients, double Coordinator)> WorkItemsPerRoundTripAsync(Func<int, Task<double[]>> run, int calls)
    {
        var clients = ThreadPool.CompletedWorkItemCount;
        var coordinator = await _coordinator.CompletedWorkItemsAsync();
        await run(calls);
        return ((double)(ThreadPool.CompletedWorkItemCount - clients) / calls,
            (double)(await _coordinator.CompletedWorkItemsAsync() - coordinator) / calls);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _rawServing.CancelAsync();
            await _typedServing.CancelAsync();
            foreach (var client in (Client[])[_caller, _raw, _typed])
            {
                await client.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, $"Closing client {client.Id}");
            }

            await _rawServing.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, "The raw echo server's stop");
            await _typedServing.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, "The typed echo server's stop");
        }
        finally
        {
            await _coordinator.DisposeAsync();
        }
    }
}
