using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Conec.Tests.Transport;

namespace Conec.Tests.Coordination;

/// <summary>Configuration from files, and configuration mistakes reported by name before anything connects.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-config-").FullName;

    [Theory, TransportModes]
    public async Task CertificatesLoadFromPemAndDerFiles(TransportMode mode)
    {
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

    [Theory, TransportModes]
    public async Task ACoordinatorIssuedByAnIntermediateIsTrustedThroughItsRoot(TransportMode mode)
    {
        using var root = Authority("root", issuer: null);
        using var intermediate = Authority("intermediate", root);
        using var leaf = ConecCertificates.CreateSigned("localhost", intermediate);
        using var unrelated = ConecCertificates.CreateAuthority("unrelated");

        // The coordinator sends its chain; a client trusting only the root must accept it, one trusting another CA not.
        await using var coord = await Coord.StartAsync(new CoordConfig
        {
            Address = IPAddress.Loopback,
            Port = 0,
            Certificate = leaf,
            CertificateChain = [intermediate],
            Transport = mode,
        }, Timeouts.Token());
        ClientConfig Trusting(string id, X509Certificate2 anchor) => new(id, "localhost")
        {
            CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port),
            CoordinatorAuthority = anchor,
            TrustSystemRoots = false,
            Transport = mode,
        };

        await using var client = await Client.ConnectAsync(Trusting("client1", root), Timeouts.Token());
        Assert.Equal(1, coord.ClientCount);
        var refused = await Assert.ThrowsAsync<ConecException>(async () => await Client.ConnectAsync(Trusting("client2", unrelated), Timeouts.Token()));
        Assert.Equal(ConecError.HandshakeFailed, refused.Error);
        Assert.Contains("not trusted", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A CA that may sign one more CA below it (ConecCertificates makes path-length-0 ones only).</summary>
    private static X509Certificate2 Authority(string name, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, issuer is null ? 1 : 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        if (issuer is null)
        {
            return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        }

        using var issued = request.Create(issuer, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
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
    [InlineData("StreamBuffer")]
    [InlineData("ClientBuffer")]
    [InlineData("MaxClients")]
    [InlineData("MaxPendingHandshakes")]
    public async Task CoordinatorMistakesNameTheProperty(string property)
    {
        var config = new CoordConfig { Certificate = TestCertificates.Server };
        switch (property)
        {
            case "Port": config.Port = 70_000; break;
            case "Certificate": config.Certificate = null; break;
            case "HelloTimeout": config.HelloTimeout = TimeSpan.Zero; break;
            case "StreamBuffer": config.StreamBuffer = 100; break;
            case "ClientBuffer": config.ClientBuffer = config.StreamBuffer - 1; break;
            case "MaxClients": config.MaxClients = 0; break;
            case "MaxPendingHandshakes": config.MaxPendingHandshakes = -1; break;
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
