using Conec.Transport;

namespace Conec.Benchmarks;

/// <summary>One server and one client identity shared by every variant, so all pay the same TLS costs.</summary>
internal sealed class BenchmarkCertificates
{
    public BenchmarkCertificates()
    {
        var server = ConecCertificates.CreateSelfSigned("localhost");
        ServerCertificate = server;
        var client = ConecCertificates.CreateSelfSigned("bench-client");
        ServerTls = new TransportServerTls(server, null, c => CertificatePolicy.CheckPeer(c, null));
        ClientTls = new TransportClientTls("localhost", client) { TrustedAuthorities = [server], TrustSystemRoots = false };
    }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 ServerCertificate { get; }

    public TransportServerTls ServerTls { get; }

    public TransportClientTls ClientTls { get; }
}
