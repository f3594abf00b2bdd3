using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Conec.Tests.Coordination;
using Conec.Tests.Processes;

namespace Conec.Tests.Transport;

/// <summary>
/// A resumed TLS session would admit a client without its certificate, the proof of its id, so the coordinator
/// resumes no session. Checked with OpenSSL's own client, which resumes whenever a server lets it.
/// </summary>
public sealed class SessionResumptionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-resume-").FullName;

    [Fact]
    public async Task AClientCannotResumeASessionAndSkipItsCertificate()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/openssl"), "This test drives /usr/bin/openssl (Debian's openssl package), which is missing.");
        await using var cluster = await Cluster.StartAsync(TransportMode.Tcp, c => c.HelloTimeout = TimeSpan.FromMilliseconds(500));
        var certificate = Path.Combine(_directory, "client.pem");
        var key = Path.Combine(_directory, "client.key");
        var session = Path.Combine(_directory, "session.pem");
        await File.WriteAllTextAsync(certificate, TestCertificates.Client.ExportCertificatePem(), TestContext.Current.CancellationToken);
        using (var privateKey = TestCertificates.Client.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The test client certificate has no ECDSA key."))
        {
            await File.WriteAllTextAsync(key, privateKey.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        }

        // Each run ends when the coordinator closes the silent connection at its hello timeout, after any ticket it sent.
        var first = await RunClientAsync(cluster, certificate, key, "-sess_out", session);
        Assert.Contains("TLSv1.3", first, StringComparison.Ordinal);
        var second = await RunClientAsync(cluster, certificate, key, "-sess_in", session);
        Assert.DoesNotContain("Reused, TLSv1.3", second, StringComparison.Ordinal);
        Assert.Contains("New, TLSv1.3", second, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<string> RunClientAsync(Cluster cluster, string certificate, string key, params string[] session)
    {
        await using var client = ProcessRunner.StartCommand("openssl", ["s_client", "-connect", cluster.EndPoint.ToString(), "-tls1_3",
            "-alpn", "conec", "-cert", certificate, "-key", key, .. session]);
        await client.ExitCodeAsync(Timeouts.Token());
        return client.Output + client.Error;
    }
}
