using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;

namespace Conec.Transport;

/// <summary>
/// Builds the TLS 1.3 options both transports use (SslStream and System.Net.Quic take the same option types), and
/// records why a validation callback refused a peer so that the failure can say so.
/// </summary>
internal static class TransportTls
{
    public static readonly SslApplicationProtocol Alpn = new("conec"u8.ToArray());

    public static SslServerAuthenticationOptions ServerOptions(TransportServerTls tls, HandshakeFailure failure) => new()
    {
        ServerCertificateContext = tls.CertificateContext,
        ClientCertificateRequired = true,

        // No session tickets: a resumed session would skip the client certificate, the proof of its id (docs/security.md).
        AllowTlsResume = false,
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = NoSystemTrust(),
        ApplicationProtocols = [Alpn],
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            failure.Reason = certificate is X509Certificate2 presented
                ? tls.ValidateClientCertificate(presented)
                : "the client presented no certificate";
            return failure.Reason is null || failure.RefuseAfterHandshake;
        },
    };

    public static SslClientAuthenticationOptions ClientOptions(TransportClientTls tls, HandshakeFailure failure) => new()
    {
        TargetHost = tls.TargetHost,
        ClientCertificateContext = tls.CertificateContext,
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = tls.TrustSystemRoots ? null : NoSystemTrust(),
        ApplicationProtocols = [tls.ApplicationProtocol ?? Alpn],
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            failure.Reason = CheckServer(tls, certificate as X509Certificate2, chain, errors);
            return failure.Reason is null;
        },
    };

    /// <summary>
    /// The chain SslStream builds before calling our callback, built without searching the system's trust store.
    /// The callbacks decide trust themselves (by pinning, signature or <see cref="CertificatePolicy"/>), so that
    /// search only cost time: several milliseconds per new peer certificate, most of a handshake's CPU on Linux.
    /// </summary>
    private static X509ChainPolicy NoSystemTrust() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    private static string? CheckServer(TransportClientTls tls, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return "the server presented no certificate";
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return $"the server's certificate ('{certificate.Subject}') is not valid for the host name '{tls.TargetHost}'";
        }

        var trusted = (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None && tls.TrustSystemRoots;

        // A trusted "authority" that is the presented self-signed certificate itself (a pinned self-signed coordinator,
        // or the self-signed certificate the coordinator relayed for a direct channel) is trusted by equality: no chain
        // to build. A CA-signed leaf is never its own anchor (as in conec); its validity period still matters.
        var now = DateTime.Now;
        var selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
        if (!trusted && selfSigned && now >= certificate.NotBefore && now <= certificate.NotAfter)
        {
            foreach (var authority in tls.TrustedAuthorities)
            {
                trusted |= authority.RawData.AsSpan().SequenceEqual(certificate.RawData);
            }
        }

        if (!trusted && tls.TrustedAuthorities.Count > 0)
        {
            var intermediates = new X509Certificate2Collection();
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements)
                {
                    intermediates.Add(element.Certificate);
                }
            }

            trusted = CertificatePolicy.ChainsToAny(certificate, tls.TrustedAuthorities, intermediates);
        }

        if (!trusted)
        {
            return $"the server's certificate ('{certificate.Subject}', issued by '{certificate.Issuer}') is not trusted: add its CA to the trusted authorities";
        }

        return tls.ValidateServerCertificate?.Invoke(certificate);
    }
}
