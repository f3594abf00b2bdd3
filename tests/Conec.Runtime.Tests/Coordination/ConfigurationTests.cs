using System.Net;
using Conec.Tests.Transport;

namespace Conec.Tests.Coordination;

/// <summary>Configuration from files, and configuration mistakes reported by name before anything connects.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-config-").FullName;

    public static TheoryData<TransportMode> Modes => TransportPair.Modes;

    [Theory, MemberData(nameof(Modes))]
    public async Task CertificatesLoadFromPemAndDerFiles(TransportMode mode)
    {
        TransportPair.RequireSupported(mode);
        var serverPem = Path.Combine(_directory, "server.pem");
        var serverKey = Path.Combine(_directory, "server.key");
        var authorityDer = Path.Combine(_directory, "server.der");
        var clientPem = Path.Combine(_directory, "client1.pem");
        ConecCertificates.Save(TestCertificates.Server, serverPem, serverKey);
        ConecCertificates.Save(TestCertificates.Server, authorityDer);
        ConecCertificates.Save(ConecCertificates.CreateSelfSigned("client1"), clientPem, clientPem);

        await using var coord = await Coord.StartAsync(new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            CertificatePath = serverPem,
            KeyPath = serverKey,
            Transport = mode,
        }, Timeouts.Token());
        await using var client = await Client.ConnectAsync(new ClientConfig("client1", "localhost")
        {
            CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port),
            CoordinatorAuthorityPath = authorityDer,
            TrustSystemRoots = false,
            CertificatePath = clientPem,
            KeyPath = clientPem,
            Transport = mode,
        }, Timeouts.Token());
        Assert.Equal(1, coord.ClientCount);
        Assert.Equal(mode, client.Transport);
    }

    [Fact]
    public async Task AnUntrustedCoordinatorFailsTheHandshake()
    {
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp);
        var config = cluster.ClientConfig("client1");
        config.CoordinatorAuthority = TestCertificates.Authority;
        var refused = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.HandshakeFailed, refused.Error);
    }

    [Fact]
    public async Task AClientCertificateForAnotherIdIsRefusedBeforeConnecting()
    {
        var config = new ClientConfig("client2", "localhost") { Certificate = TestCertificates.Client, CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, 9) };
        var refused = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.IdentityRejected, refused.Error);
    }

    [Theory]
    [InlineData("Port")]
    [InlineData("Certificate")]
    [InlineData("HelloTimeout")]
    [InlineData("MaxStreamsPerClient")]
    public async Task CoordinatorMistakesNameTheProperty(string property)
    {
        var config = new CoordConfig { Certificate = TestCertificates.Server };
        switch (property)
        {
            case "Port": config.Port = 70_000; break;
            case "Certificate": config.Certificate = null; break;
            case "HelloTimeout": config.HelloTimeout = TimeSpan.Zero; break;
            default: config.MaxStreamsPerClient = 0; break;
        }

        var error = await Assert.ThrowsAsync<ConecException>(() => Coord.StartAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.InvalidConfiguration, error.Error);
        Assert.Contains($"CoordConfig.{property}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Id")]
    [InlineData("CoordinatorHost")]
    [InlineData("IdleTimeout")]
    [InlineData("MaxMessageSize")]
    public async Task ClientMistakesNameTheProperty(string property)
    {
        var config = new ClientConfig("client1", "localhost");
        switch (property)
        {
            case "Id": config.Id = "not a dns name!"; break;
            case "CoordinatorHost": config.CoordinatorHost = " "; break;
            case "IdleTimeout": config.IdleTimeout = TimeSpan.FromSeconds(-1); break;
            default: config.MaxMessageSize = -1; break;
        }

        var error = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.InvalidConfiguration, error.Error);
        Assert.Contains($"ClientConfig.{property}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableCoordinatorIsRefusedNotHung()
    {
        // Bind then release a port so nothing listens on it.
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var config = new ClientConfig("client1", "localhost") { CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, port), Transport = TransportMode.Tcp };
        var refused = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(config, Timeouts.Token()));
        Assert.Equal(ConecError.ConnectionRefused, refused.Error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
