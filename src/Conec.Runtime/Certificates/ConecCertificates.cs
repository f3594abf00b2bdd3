using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;

namespace Conec;

/// <summary>
/// Creates, saves and loads the certificates Conec uses (conec's <c>ca</c> module): a CA, a self-signed certificate
/// for a DNS name, and a certificate signed by a CA. Keys are ECDSA P-256 and every leaf is valid as both a TLS
/// server and a TLS client certificate, because clients are servers for direct channels.
/// </summary>
public static class ConecCertificates
{
    /// <summary>The organisation written into every certificate Conec makes.</summary>
    public const string Organization = "Conec";

    private static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);

    // Backdating absorbs clock skew between machines, so a certificate made a moment ago is valid on the peer too.
    private static readonly TimeSpan Backdate = TimeSpan.FromHours(1);

    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Creates a certificate authority (path length 0) named <paramref name="name"/>, with its private key.</summary>
    public static X509Certificate2 CreateAuthority(string name = "ca", TimeSpan? validity = null)
    {
        RequireDnsName(name);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NewRequest(name, key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now - Backdate, now + (validity ?? DefaultValidity));
        return Portable(created);
    }

    /// <summary>Creates a self-signed leaf certificate whose only subject alternative name is <paramref name="dnsName"/>.</summary>
    public static X509Certificate2 CreateSelfSigned(string dnsName, TimeSpan? validity = null)
    {
        RequireDnsName(dnsName);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NewLeafRequest(dnsName, key);
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now - Backdate, now + (validity ?? DefaultValidity));
        return Portable(created);
    }

    /// <summary>Creates a leaf certificate for <paramref name="dnsName"/> signed by <paramref name="authority"/>.</summary>
    /// <exception cref="ConecException">The authority has no private key or is not a CA.</exception>
    public static X509Certificate2 CreateSigned(string dnsName, X509Certificate2 authority, TimeSpan? validity = null)
    {
        ArgumentNullException.ThrowIfNull(authority);
        RequireDnsName(dnsName);
        if (!authority.HasPrivateKey)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"The authority '{authority.Subject}' has no private key to sign with.");
        }

        if (authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            throw new ConecException(ConecError.InvalidCertificate, $"'{authority.Subject}' is not a certificate authority.");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NewLeafRequest(dnsName, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + (validity ?? DefaultValidity);
        if (notAfter > authority.NotAfter)
        {
            notAfter = authority.NotAfter;
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number, as RFC 5280 §4.1.2.2 requires
        using var caKey = authority.GetECDsaPrivateKey()
            ?? throw new ConecException(ConecError.InvalidCertificate, "The authority's key is not an ECDSA key.");
        var generator = X509SignatureGenerator.CreateForECDsa(caKey);
        using var unsigned = request.Create(authority.SubjectName, generator, now - Backdate, notAfter, serial);
        using var withKey = unsigned.CopyWithPrivateKey(key);
        return Portable(withKey);
    }

    /// <summary>The certificate as PEM text (no key).</summary>
    public static string ExportCertificatePem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.ExportCertificatePem();
    }

    /// <summary>The private key as unencrypted PKCS#8 PEM text.</summary>
    /// <exception cref="ConecException">The certificate carries no ECDSA private key.</exception>
    public static string ExportPrivateKeyPem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey()
            ?? throw new ConecException(ConecError.InvalidCertificate, $"'{certificate.Subject}' has no ECDSA private key to export.");
        return key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>
    /// Saves the certificate and its key. A path ending in <c>.der</c> is written as DER (PKCS#8 for the key),
    /// any other path as PEM; a PEM key path equal to the certificate path writes both into one file. The key file is
    /// created readable by the owner only where the OS allows.
    /// </summary>
    public static void Save(X509Certificate2 certificate, string certificatePath, string? keyPath = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        CertificateFiles.Save(certificate, certificatePath, keyPath);
    }

    /// <summary>
    /// Loads a certificate and, when <paramref name="keyPath"/> is given, its private key. A path ending in
    /// <c>.der</c> is read as DER; any other as PEM (the first certificate of the file; PKCS#8, SEC1 or RSA keys).
    /// </summary>
    /// <exception cref="ConecException">A file is missing, unreadable or does not hold what it should.</exception>
    public static X509Certificate2 Load(string certificatePath, string? keyPath = null) =>
        CertificateFiles.Load(certificatePath, keyPath);

    /// <summary>Loads every certificate of a PEM file (a chain), or the single certificate of a DER file.</summary>
    public static X509Certificate2Collection LoadChain(string certificatePath) => CertificateFiles.LoadChain(certificatePath);

    /// <summary>
    /// Re-imports a certificate through PKCS#12 so that its key is usable by SslStream and QUIC on every platform
    /// (Windows' TLS stack refuses ephemeral keys).
    /// </summary>
    internal static X509Certificate2 Portable(X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey)
        {
            return X509CertificateLoader.LoadCertificate(certificate.RawData);
        }

        if (!OperatingSystem.IsWindows())
        {
            // Elsewhere keys made in memory are usable by TLS as they are: attaching a copy of the key is enough,
            // and avoids a PKCS#12 round trip whose key derivation dominates the cost of a new identity.
            using var key = certificate.GetECDsaPrivateKey();
            if (key is not null)
            {
                using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
                return publicOnly.CopyWithPrivateKey(key);
            }
        }

        // On Windows an ephemeral key cannot be used by SChannel; a PKCS#12 round trip gives it a usable key container.
        var pkcs12 = certificate.Export(X509ContentType.Pkcs12);
        try
        {
            return X509CertificateLoader.LoadPkcs12(pkcs12, null, X509KeyStorageFlags.Exportable);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs12);
        }
    }

    private static CertificateRequest NewLeafRequest(string dnsName, ECDsa key)
    {
        var request = NewRequest(dnsName, key);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static CertificateRequest NewRequest(string name, ECDsa key)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName(Organization);
        subject.AddCommonName(name);
        return new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
    }

    private static void RequireDnsName(string name)
    {
        if (!DnsName.IsValid(name))
        {
            throw new ConecException(ConecError.InvalidCertificate, $"'{name}' is not a valid DNS name; Conec ids and host names must be.");
        }
    }
}
