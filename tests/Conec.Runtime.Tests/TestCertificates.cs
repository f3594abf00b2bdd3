using System.Security.Cryptography.X509Certificates;

namespace Conec.Tests;

/// <summary>Certificates made once per test run (key generation is the slow part of a TLS test).</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> LazyServer = new(() => ConecCertificates.CreateSelfSigned("localhost"));
    private static readonly Lazy<X509Certificate2> LazyClient = new(() => ConecCertificates.CreateSelfSigned("client1"));
    private static readonly Lazy<X509Certificate2> LazyAuthority = new(() => ConecCertificates.CreateAuthority());

    /// <summary>The coordinator-side certificate, self-signed for <c>localhost</c>, as conec's tests use.</summary>
    public static X509Certificate2 Server => LazyServer.Value;

    /// <summary>A self-signed client identity named <c>client1</c>.</summary>
    public static X509Certificate2 Client => LazyClient.Value;

    public static X509Certificate2 Authority => LazyAuthority.Value;
}
