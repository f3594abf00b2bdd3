using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;
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

    public X509Certificate2 ServerCertificate { get; }

    public TransportServerTls ServerTls { get; }

    public TransportClientTls ClientTls { get; }

    /// <summary>
    /// A self-signed client certificate with the same extensions as <see cref="ConecCertificates.CreateSelfSigned"/>
    /// whose subject alternative names are all of <paramref name="ids"/>, so one certificate can connect as each.
    /// </summary>
    public static X509Certificate2 CreateForMany(IEnumerable<string> ids)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench-many", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var id in ids)
        {
            names.AddDnsName(id);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
