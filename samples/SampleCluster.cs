using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Samples;

/// <summary>A coordinator on loopback with a certificate made at start, and a way to connect clients to it.</summary>
internal sealed class SampleCluster : IAsyncDisposable
{
    private readonly X509Certificate2 _certificate = ConecCertificates.CreateSelfSigned("localhost");
    private Coord? _coord;

    public Coord Coord => _coord ?? throw new InvalidOperationException("Start the cluster first.");

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _coord = await Coord.StartAsync(new CoordConfig { Address = IPAddress.Loopback, Port = 0, Certificate = _certificate }, cancellationToken);

    public Task<Client> ConnectAsync(string id, CancellationToken cancellationToken) => Client.ConnectAsync(new ClientConfig(id, "localhost")
    {
        CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, Coord.LocalEndPoint.Port),
        CoordinatorAuthority = _certificate,
        TrustSystemRoots = false,
    }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_coord is not null)
        {
            await _coord.DisposeAsync();
        }

        _certificate.Dispose();
    }
}
