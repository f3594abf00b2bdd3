using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Transport;

/// <summary>The accepting side's TLS identity and its rule for client certificates.</summary>
internal sealed class TransportServerTls
{
    public TransportServerTls(X509Certificate2 certificate, X509Certificate2Collection? chain, Func<X509Certificate2, string?> validateClientCertificate)
    {
        if (!certificate.HasPrivateKey)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"The server certificate '{certificate.Subject}' has no private key.");
        }

        Certificate = certificate;
        CertificateContext = chain is null ? CertificateContexts.For(certificate) : SslStreamCertificateContext.Create(certificate, chain, offline: true);
        ValidateClientCertificate = validateClientCertificate;
    }

    public X509Certificate2 Certificate { get; }

    public SslStreamCertificateContext CertificateContext { get; }

    /// <summary>Returns <see langword="null"/> to accept the presented client certificate, else the reason to refuse it.</summary>
    public Func<X509Certificate2, string?> ValidateClientCertificate { get; }
}
