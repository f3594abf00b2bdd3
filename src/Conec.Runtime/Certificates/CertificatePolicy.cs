using System.Security.Cryptography.X509Certificates;

namespace Conec.Certificates;

/// <summary>
/// The rules a client certificate must meet (conec-reference §4): ECDSA P-256 with SHA-256, valid now, usable for
/// both TLS client and server auth, and anchored either in itself (self-signed mode) or in the client CA (CA mode,
/// where self-signed certificates are refused). Each check returns the reason of a refusal, never throws.
/// </summary>
internal static class CertificatePolicy
{
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>Returns <see langword="null"/> when <paramref name="certificate"/> is an acceptable peer identity.</summary>
    public static string? CheckPeer(X509Certificate2 certificate, X509Certificate2? clientAuthority)
    {
        if (certificate.SignatureAlgorithm.Value != EcdsaWithSha256)
        {
            return $"the certificate is signed with {certificate.SignatureAlgorithm.FriendlyName ?? certificate.SignatureAlgorithm.Value}, Conec accepts ECDSA P-256 with SHA-256 only";
        }

        using (var key = certificate.GetECDsaPublicKey())
        {
            if (key is null || key.KeySize != 256)
            {
                return "the certificate's key is not an ECDSA P-256 key";
            }
        }

        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return $"the certificate is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now";
        }

        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usages is not null)
        {
            var oids = usages.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToHashSet();
            if (!oids.Contains(ClientAuth) || !oids.Contains(ServerAuth))
            {
                return "the certificate must allow both TLS client and TLS server authentication";
            }
        }

        var selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
        if (clientAuthority is null && !selfSigned)
        {
            return "this endpoint accepts self-signed client certificates only (no client CA is configured)";
        }

        if (clientAuthority is not null && selfSigned)
        {
            return "self-signed client certificates are refused: the certificate must be signed by the configured client CA";
        }

        var verifies = clientAuthority is null ? SelfSignatureVerifies(certificate) : ChainsTo(certificate, clientAuthority);
        return verifies
            ? null
            : clientAuthority is null
                ? "the self-signed certificate's signature does not verify"
                : $"the certificate is not signed by the client CA '{clientAuthority.Subject}'";
    }

    /// <summary>
    /// Whether a self-signed certificate's signature verifies under its own key. Checked directly (the algorithm is
    /// already known to be ECDSA P-256 with SHA-256) rather than by building an X509Chain, which costs several
    /// milliseconds and would dominate the coordinator's work per connecting client.
    /// </summary>
    private static bool SelfSignatureVerifies(X509Certificate2 certificate)
    {
        try
        {
            var outer = new System.Formats.Asn1.AsnReader(certificate.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
            var signed = outer.ReadEncodedValue();
            outer.ReadSequence();
            var signature = outer.ReadBitString(out _);
            using var key = certificate.GetECDsaPublicKey();
            return key is not null && key.VerifyData(signed.Span, signature, System.Security.Cryptography.HashAlgorithmName.SHA256,
                System.Security.Cryptography.DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (Exception e) when (e is System.Formats.Asn1.AsnContentException or System.Security.Cryptography.CryptographicException)
        {
            // Undecodable DER is a certificate whose signature does not verify: the caller refuses it with that reason.
            return false;
        }
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="anchor"/> alone (no system roots, no revocation).</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 anchor, X509Certificate2Collection? intermediates = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreWrongUsage;
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        }

        var built = chain.Build(certificate);
        foreach (var element in chain.ChainElements)
        {
            element.Certificate.Dispose();
        }

        return built;
    }

    /// <summary>Whether any of <paramref name="anchors"/> vouches for <paramref name="certificate"/>.</summary>
    public static bool ChainsToAny(X509Certificate2 certificate, X509Certificate2Collection anchors, X509Certificate2Collection? intermediates)
    {
        foreach (var anchor in anchors)
        {
            if (ChainsTo(certificate, anchor, intermediates))
            {
                return true;
            }
        }

        return false;
    }
}
