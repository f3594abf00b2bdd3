namespace Conec.Cli;

/// <summary>
/// The development CA and `localhost` certificate `conec coord --dev` uses: made once under the user's profile, then
/// reused, so clients can trust the same CA file across runs.
/// </summary>
internal static class DevCertificates
{
    public static string Directory => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".conec", "dev");

    public static string AuthorityPath => Path.Combine(Directory, "ca.pem");

    /// <summary>Loads the development server certificate, creating the CA and the certificate the first time.</summary>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadOrCreate(TextWriter output)
    {
        var certificate = Path.Combine(Directory, "localhost.pem");
        var key = Path.Combine(Directory, "localhost.key");
        if (!File.Exists(certificate) || !File.Exists(key) || !File.Exists(AuthorityPath))
        {
            System.IO.Directory.CreateDirectory(Directory);
            using var authority = ConecCertificates.CreateAuthority("conec-dev-ca", TimeSpan.FromDays(825));
            ConecCertificates.Save(authority, AuthorityPath, Path.Combine(Directory, "ca.key"));
            using var server = ConecCertificates.CreateSigned("localhost", authority, TimeSpan.FromDays(825));
            ConecCertificates.Save(server, certificate, key);
            output.WriteLine($"Created a development CA and a certificate for localhost in {Directory}.");
        }

        return ConecCertificates.Load(certificate, key);
    }
}
