using System.CommandLine;

namespace Conec.Cli;

/// <summary>
/// How `conec chat` trusts its coordinator (<c>--ca</c>) and proves who it is: by default a self-signed certificate
/// made at connect, or an issued identity (<c>--cert</c>, <c>--key</c>) for a coordinator run with <c>--client-ca</c>,
/// which refuses self-signed clients.
/// </summary>
internal sealed class ClientTrustOptions
{
    public Option<FileInfo?> Authority { get; } = new("--ca") { Description = "A CA (or certificate) to trust for the coordinator." };

    public Option<FileInfo?> Certificate { get; } = new("--cert")
    {
        Description = "Your certificate (PEM), issued for --id by the coordinator's client CA (`conec certs issue`); without it a self-signed one is made.",
    };

    public Option<FileInfo?> Key { get; } = new("--key") { Description = "The private key of --cert (PEM)." };

    /// <summary>The configuration properties these options set, for validators' messages.</summary>
    public static IEnumerable<(string Property, string Option)> Sources =>
    [
        (nameof(ClientConfig.CoordinatorAuthorityPath), "--ca"),
        (nameof(ClientConfig.CertificatePath), "--cert"),
        (nameof(ClientConfig.KeyPath), "--key"),
    ];

    /// <summary>
    /// Advice for a refused TLS handshake from what was given: the error alone cannot tell an untrusted coordinator
    /// from a coordinator that refused this client's certificate, so the advice names what is left to check.
    /// </summary>
    public static string HandshakeAdvice(bool authorityGiven, bool identityGiven, string howToGiveIdentity, string identityToCheck) =>
        !authorityGiven ? " Pass the coordinator's CA with --ca (for `coord --dev`, the path it printed)."
        : !identityGiven ? $" Check that --ca is the CA of the coordinator's certificate. A coordinator run with --client-ca admits only clients whose certificate that CA issued: {howToGiveIdentity}."
        : $" Check that --ca is the CA of the coordinator's certificate and that {identityToCheck}.";

    public void AddTo(Command command)
    {
        command.Options.Add(Authority);
        command.Options.Add(Certificate);
        command.Options.Add(Key);
        command.Validators.Add(result =>
        {
            if (result.GetResult(Certificate) is null != result.GetResult(Key) is null)
            {
                result.AddError("--cert and --key go together: give the certificate and its private key.");
            }
        });
    }

    /// <summary>Sets the configuration's paths; the runtime loads the files when it connects.</summary>
    public void Apply(ParseResult result, ClientConfig config)
    {
        config.CoordinatorAuthorityPath = result.GetValue(Authority)?.FullName;
        config.CertificatePath = result.GetValue(Certificate)?.FullName;
        config.KeyPath = result.GetValue(Key)?.FullName;
    }

    /// <summary>Advice for <paramref name="error"/> that depends on these options, or null for the general advice.</summary>
    public string? Advice(ParseResult result, ConecError error)
    {
        var identityGiven = result.GetValue(Certificate) is not null;
        return error switch
        {
            ConecError.HandshakeFailed => HandshakeAdvice(result.GetValue(Authority) is not null, identityGiven,
                "pass one with --cert and --key (`conec certs issue ID --ca CA`)", "the coordinator's client CA issued --cert"),
            ConecError.IdentityRejected when identityGiven =>
                " Give the --id that --cert was issued for, or issue a certificate for this id (`conec certs issue ID --ca CA`).",
            _ => null,
        };
    }
}
