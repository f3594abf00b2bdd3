using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Transport;

/// <summary>
/// One <see cref="SslStreamCertificateContext"/> per certificate object, for certificates that travel without extra
/// chain certificates (client identities). Creating a context builds an X509 chain, about a millisecond; a client
/// presents the same certificate to the coordinator, on its direct-channel listener and to every peer it dials, so
/// it builds that chain once. Entries live as long as the certificate object does.
/// </summary>
internal static class CertificateContexts
{
    private static readonly ConditionalWeakTable<X509Certificate2, SslStreamCertificateContext> Contexts = [];

    public static SslStreamCertificateContext For(X509Certificate2 certificate) =>
        Contexts.GetValue(certificate, static c => SslStreamCertificateContext.Create(c, null, offline: true));
}
