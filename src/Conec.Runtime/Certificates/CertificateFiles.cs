using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conec.Certificates;

/// <summary>PEM and DER files of certificates and PKCS#8 keys; every failure becomes one clear <see cref="ConecException"/>.</summary>
internal static class CertificateFiles
{
    public static void Save(X509Certificate2 certificate, string certificatePath, string? keyPath)
    {
        try
        {
            if (IsDer(certificatePath))
            {
                File.WriteAllBytes(certificatePath, certificate.RawData);
            }
            else
            {
                File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
            }

            if (keyPath is null)
            {
                return;
            }

            using var key = certificate.GetECDsaPrivateKey()
                ?? throw new ConecException(ConecError.InvalidCertificate, $"'{certificate.Subject}' has no ECDSA private key to save.");

            // One PEM file may hold both (a common bundle): the key then follows the certificate in the same file.
            var bundle = string.Equals(Path.GetFullPath(keyPath), Path.GetFullPath(certificatePath), StringComparison.Ordinal);
            if (bundle && IsDer(keyPath))
            {
                throw new ConecException(ConecError.InvalidCertificate, "A DER file holds one object: save the certificate and the key to different files.");
            }

            var options = new FileStreamOptions { Mode = bundle ? FileMode.Append : FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                if (bundle)
                {
                    File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            using var file = new FileStream(keyPath, options);
            if (IsDer(keyPath))
            {
                file.Write(key.ExportPkcs8PrivateKey());
            }
            else
            {
                using var writer = new StreamWriter(file);
                writer.Write(bundle ? "\n" + key.ExportPkcs8PrivateKeyPem() : key.ExportPkcs8PrivateKeyPem());
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"Could not save the certificate to '{certificatePath}': {e.Message}", e);
        }
    }

    public static X509Certificate2 Load(string certificatePath, string? keyPath)
    {
        var certificate = LoadChain(certificatePath)[0];
        if (keyPath is null)
        {
            return certificate;
        }

        try
        {
            using (certificate)
            {
                using var withKey = IsDer(keyPath)
                    ? AttachDerKey(certificate, ReadBytes(keyPath))
                    : X509Certificate2.CreateFromPem(certificate.ExportCertificatePem(), ReadText(keyPath));
                return ConecCertificates.Portable(withKey);
            }
        }
        catch (CryptographicException e)
        {
            throw new ConecException(ConecError.InvalidCertificate,
                $"The key in '{keyPath}' is not a readable private key for the certificate in '{certificatePath}': {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"'{keyPath}' holds no private key in PEM form: {e.Message}", e);
        }
    }

    public static X509Certificate2Collection LoadChain(string certificatePath)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            if (IsDer(certificatePath))
            {
                chain.Add(X509CertificateLoader.LoadCertificate(ReadBytes(certificatePath)));
            }
            else
            {
                chain.ImportFromPem(ReadText(certificatePath));
            }
        }
        catch (CryptographicException e)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"'{certificatePath}' does not hold a readable certificate: {e.Message}", e);
        }

        if (chain.Count == 0)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"'{certificatePath}' holds no certificate.");
        }

        return chain;
    }

    private static X509Certificate2 AttachDerKey(X509Certificate2 certificate, byte[] pkcs8)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(pkcs8, out _);
        return certificate.CopyWithPrivateKey(key);
    }

    private static bool IsDer(string path) => path.EndsWith(".der", StringComparison.OrdinalIgnoreCase);

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"Cannot read '{path}': {e.Message}", e);
        }
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConecException(ConecError.InvalidCertificate, $"Cannot read '{path}': {e.Message}", e);
        }
    }
}
