using System.CommandLine;

namespace Conec.Cli;

/// <summary>`conec bench`: end-to-end figures through an in-process or a named coordinator.</summary>
internal static partial class Commands
{
    private static Command BenchCommand()
    {
        var coord = new Option<HostAndPort?>("--coord")
        {
            Description = "Measure through this coordinator, HOST[:PORT] (default: one in this process).",
            CustomParser = OptionParsers.Endpoint("--coord"),
        };
        var ca = new Option<FileInfo?>("--ca") { Description = "A CA (or certificate) to trust for --coord." };
        var clientCa = new Option<FileInfo?>("--client-ca")
        {
            Description = "The client CA of a --coord run with --client-ca (its key beside it, as `conec certs ca` writes it): bench issues each of its clients a certificate with it.",
        };
        var quick = new Option<bool>("--quick") { Description = "Move less data: a quick look rather than stable figures." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON (progress still goes to standard error)." };
        var command = new Command("bench", "Measure proxied and direct streams, broadcast fan-out (read with sender ids) and RPC end to end.") { coord, ca, clientCa, quick, json };
        command.Validators.Add(result =>
        {
            if (result.GetResult(clientCa) is not null && result.GetResult(coord) is null)
            {
                result.AddError("--client-ca needs --coord: the coordinator bench runs in this process admits self-signed clients.");
            }
        });
        var sources = OptionSources.Of<ClientConfig>(
            (nameof(ClientConfig.CoordinatorHost), "The host of --coord"),
            (nameof(ClientConfig.CoordinatorPort), "The port of --coord"),
            (nameof(ClientConfig.CoordinatorAuthorityPath), "--ca"));
        command.SetAction((result, ct) => Guarded(result, sources, async () =>
        {
            Bench.Target? target = null;
            if (result.GetValue(coord) is { } coordinator)
            {
                target = new Bench.Target(coordinator.Host, coordinator.Port, result.GetValue(ca)?.FullName, result.GetValue(clientCa)?.FullName);
            }

            var results = await Bench.RunAsync(target, result.GetValue(quick), Console.Error, ct);
            if (result.GetValue(json))
            {
                await using var output = Console.OpenStandardOutput();
                Bench.PrintJson(results, output);
            }
            else
            {
                Bench.PrintTable(results, Console.Out);
            }

            return 0;
        }, error => error == ConecError.HandshakeFailed
            ? ClientTrustOptions.HandshakeAdvice(result.GetValue(ca) is not null, result.GetValue(clientCa) is not null,
                "pass that CA with --client-ca", "--client-ca is the coordinator's client CA")
            : null));
        return command;
    }
}
