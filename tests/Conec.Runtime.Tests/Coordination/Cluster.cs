using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Tests.Coordination;

/// <summary>A coordinator on an ephemeral loopback port and the clients a test connects to it; disposes them all.</summary>
internal sealed class Cluster : IAsyncDisposable
{
    private readonly List<Client> _clients = [];

    private Cluster(Coord coord, TransportMode mode)
    {
        Coord = coord;
        Mode = mode;
    }

    public Coord Coord { get; }

    public TransportMode Mode { get; }

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Coord.LocalEndPoint.Port);

    public static async Task<Cluster> StartAsync(TransportMode mode, Action<CoordConfig>? configure = null)
    {
        var config = new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = TestCertificates.Server,
            Transport = mode,
        };
        configure?.Invoke(config);
        return new Cluster(await Coord.StartAsync(config, Timeouts.Token()), mode);
    }

    public ClientConfig ClientConfig(string id, X509Certificate2? certificate = null) => new(id, "localhost")
    {
        CoordinatorEndPoint = EndPoint,
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Certificate = certificate,
        Transport = Mode,
    };

    public Task<Client> ConnectAsync(string id, X509Certificate2? certificate = null) => ConnectAsync(ClientConfig(id, certificate));

    public async Task<Client> ConnectAsync(ClientConfig config)
    {
        var client = await Client.ConnectAsync(config, Timeouts.Token());
        _clients.Add(client);
        return client;
    }

    /// <summary>Waits (bounded) for the coordinator to count <paramref name="expected"/> clients; returns how long that took.</summary>
    public async Task<TimeSpan> WaitForClientCountAsync(int expected, TimeSpan? limit = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var deadline = limit ?? Timeouts.Operation;
        while (Coord.ClientCount != expected)
        {
            Assert.True(started.Elapsed < deadline, $"The coordinator counts {Coord.ClientCount} clients, not {expected}, after {deadline}.");
            await Task.Delay(2, TestContext.Current.CancellationToken);
        }

        return started.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Coord.DisposeAsync();
    }
}
