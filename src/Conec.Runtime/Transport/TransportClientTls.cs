using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Transport;

/// <summary>The connecting side's TLS identity and what it trusts.</summary>
internal sealed class TransportClientTls
{
    public TransportClientTls(string targetHost, X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"The client certificate '{certificate.Subject}' has no private key.");
        }

        TargetHost = targetHost;
        Certificate = certificate;
        CertificateContext = CertificateContexts.For(certificate);
    }

    /// <summary>The name the server's certificate must be valid for (also sent as SNI).</summary>
    public string TargetHost { get; }

    public X509Certificate2 Certificate { get; }

    public SslStreamCertificateContext CertificateContext { get; }

    /// <summary>Extra trust anchors besides (or instead of) the system roots.</summary>
    public X509Certificate2Collection TrustedAuthorities { get; init; } = [];

    public bool TrustSystemRoots { get; init; } = true;

    /// <summary>A further check after the chain and name passed (direct channels pin the relayed certificate).</summary>
    public Func<X509Certificate2, string?>? ValidateServerCertificate { get; init; }

    /// <summary>Overrides the ALPN protocol; only tests set it, to prove a wrong ALPN is refused.</summary>
    public SslApplicationProtocol? ApplicationProtocol { get; init; }
}
