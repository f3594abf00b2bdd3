using System.CommandLine;

namespace Conec.Cli;

/// <summary>`conec certs`: a CA, and certificates it signs.</summary>
internal static partial class Commands
{
    private static Command CertsCommand()
    {
        var outDirectory = new Option<DirectoryInfo>("--out") { Description = "Where to write the files.", DefaultValueFactory = _ => new DirectoryInfo("certs") };
        var caName = new Option<string>("--name") { Description = "The CA's name.", DefaultValueFactory = _ => "ca" };
        var ca = new Command("ca", "Create a CA: <out>/<name>.pem and <out>/<name>.key.") { outDirectory, caName };
        ca.SetAction(result => GuardedSync(result, () =>
        {
            var directory = result.GetValue(outDirectory)!;
            directory.Create();
            using var authority = ConecCertificates.CreateAuthority(result.GetValue(caName)!);
            var path = Path.Combine(directory.FullName, result.GetValue(caName) + ".pem");
            ConecCertificates.Save(authority, path, Path.ChangeExtension(path, ".key"));
            Console.WriteLine($"Wrote {path} and its key.");
        }));

        var name = new Argument<string>("name") { Description = "The DNS name (a client id, or the coordinator's host name)." };
        var caCert = new Option<FileInfo>("--ca") { Description = "The CA certificate (PEM); its key is the same path with .key.", Required = true };
        var issue = new Command("issue", "Issue a certificate for a name, signed by a CA: <out>/<name>.pem and .key.") { name, caCert, outDirectory };
        issue.SetAction(result => GuardedSync(result, () =>
        {
            var authorityPath = result.GetValue(caCert)!.FullName;
            using var authority = ConecCertificates.Load(authorityPath, Path.ChangeExtension(authorityPath, ".key"));
            var directory = result.GetValue(outDirectory)!;
            directory.Create();
            using var leaf = ConecCertificates.CreateSigned(result.GetValue(name)!, authority);
            var path = Path.Combine(directory.FullName, result.GetValue(name) + ".pem");
            ConecCertificates.Save(leaf, path, Path.ChangeExtension(path, ".key"));
            Console.WriteLine($"Wrote {path} and its key.");
        }));
        return new Command("certs", "Create certificates.") { ca, issue };
    }
}
