using System.Security.Cryptography.X509Certificates;
using Conec.Certificates;

namespace Conec.Tests.Certificates;

/// <summary>conec's <c>ca</c> module: what is made, how it is saved and loaded, and what the peer policy accepts.</summary>
public sealed class CertificateTests
{
    [Fact]
    public void A_self_signed_certificate_names_its_id_and_serves_both_tls_roles()
    {
        using var certificate = ConecCertificates.CreateSelfSigned("client7");

        Assert.True(certificate.HasPrivateKey);
        Assert.True(certificate.MatchesHostname("client7"));
        Assert.False(certificate.MatchesHostname("client8"));
        using var key = certificate.GetECDsaPublicKey();
        Assert.Equal(256, key!.KeySize);
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages;
        Assert.Contains(usages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.Contains(usages.Cast<System.Security.Cryptography.Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
        Assert.Null(CertificatePolicy.CheckPeer(certificate, clientAuthority: null));
    }

    [Fact]
    public void A_signed_certificate_chains_to_its_authority_and_only_to_it()
    {
        using var authority = ConecCertificates.CreateAuthority();
        using var other = ConecCertificates.CreateAuthority("other-ca");
        using var signed = ConecCertificates.CreateSigned("client2", authority);

        Assert.True(authority.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Null(CertificatePolicy.CheckPeer(signed, authority));
        Assert.Contains("not signed by the client CA", CertificatePolicy.CheckPeer(signed, other), StringComparison.Ordinal);
        Assert.Contains("self-signed client certificates only", CertificatePolicy.CheckPeer(signed, null), StringComparison.Ordinal);
        using var selfSigned = ConecCertificates.CreateSelfSigned("client3");
        Assert.Contains("self-signed client certificates are refused", CertificatePolicy.CheckPeer(selfSigned, authority), StringComparison.Ordinal);
    }

    [Fact]
    public void An_expired_certificate_is_refused()
    {
        using var expired = ConecCertificates.CreateSelfSigned("old", TimeSpan.FromMinutes(-30));
        Assert.Contains("not now", CertificatePolicy.CheckPeer(expired, null), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("der")]
    public void Saved_certificates_and_keys_load_back_with_a_working_key(string format)
    {
        var directory = Directory.CreateTempSubdirectory("conec-certs-");
        try
        {
            using var authority = ConecCertificates.CreateAuthority();
            using var original = ConecCertificates.CreateSigned("server.local", authority);
            var certificatePath = Path.Combine(directory.FullName, $"cert.{format}");
            var keyPath = Path.Combine(directory.FullName, $"key.{format}");
            ConecCertificates.Save(original, certificatePath, keyPath);

            using var loaded = ConecCertificates.Load(certificatePath, keyPath);
            Assert.Equal(original.RawData, loaded.RawData);
            Assert.True(loaded.HasPrivateKey);
            using var privateKey = loaded.GetECDsaPrivateKey()!;
            using var publicKey = original.GetECDsaPublicKey()!;
            var signature = privateKey.SignData("proof"u8.ToArray(), System.Security.Cryptography.HashAlgorithmName.SHA256);
            Assert.True(publicKey.VerifyData("proof"u8.ToArray(), signature, System.Security.Cryptography.HashAlgorithmName.SHA256));
            Assert.Single(ConecCertificates.LoadChain(certificatePath));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bad_files_and_names_give_one_clear_error()
    {
        var missing = Assert.Throws<ConecException>(() => ConecCertificates.Load("/nonexistent/cert.pem"));
        Assert.Equal(ConecError.InvalidCertificate, missing.Error);

        var garbage = Path.GetTempFileName();
        try
        {
            File.WriteAllText(garbage, "not a certificate");
            var empty = Assert.Throws<ConecException>(() => ConecCertificates.Load(garbage));
            Assert.Contains("holds no certificate", empty.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(garbage);
        }

        Assert.Equal(ConecError.InvalidCertificate, Assert.Throws<ConecException>(() => ConecCertificates.CreateSelfSigned("not a dns name")).Error);
        using var leaf = ConecCertificates.CreateSelfSigned("leaf");
        Assert.Contains("not a certificate authority", Assert.Throws<ConecException>(() => ConecCertificates.CreateSigned("x", leaf)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASelfSignedCertificateWithATamperedSignatureIsRefused()
    {
        var genuine = ConecCertificates.CreateSelfSigned("client7");
        Assert.Null(CertificatePolicy.CheckPeer(genuine, null));

        // The signature is the certificate's last field: change its last byte.
        var tampered = (byte[])genuine.RawData.Clone();
        tampered[^1] ^= 0x5A;
        using var forged = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(tampered);
        Assert.Contains("signature does not verify", CertificatePolicy.CheckPeer(forged, null), StringComparison.Ordinal);
    }
}
