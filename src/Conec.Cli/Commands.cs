using System.CommandLine;

namespace Conec.Cli;

/// <summary>The `conec` commands. Each returns an exit code; failures print one line saying what to do.</summary>
internal static partial class Commands
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Print full exception details on failure.", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("Conec: coordinated network channels for .NET.");
        root.Options.Add(Verbose);
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(CoordCommand());
        root.Subcommands.Add(CertsCommand());
        root.Subcommands.Add(ChatCommand());
        root.Subcommands.Add(BenchCommand());
        return root;
    }

    /// <summary>Parses and runs a command line: a usage error is two lines and exit code 2, never the whole help.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var result = Build().Parse(args);

        // A bare `conec` is a request for orientation rather than a mistake: it keeps the full help.
        if (result.Errors.Count > 0 && args.Length > 0)
        {
            UsageErrors.Write(result, Console.Error);
            return UsageErrors.ExitCode;
        }

        return await result.InvokeAsync(cancellationToken: cancellationToken);
    }

    private static Task<int> GuardedSync(ParseResult result, Action action) => Guarded(result, OptionSources.None, () =>
    {
        action();
        return Task.FromResult(0);
    });

    /// <summary>
    /// Turns every expected failure into one line with what to do, and exit code 1; a configuration value an option
    /// set is a usage error (exit code 2) naming that option. <paramref name="advice"/> may give a command's own advice.
    /// </summary>
    private static async Task<int> Guarded(ParseResult result, OptionSources sources, Func<Task<int>> action, Func<ConecError, string?>? advice = null)
    {
        try
        {
            return await action();
        }
        catch (ConecException e) when (sources.Rephrase(e) is { } problem)
        {
            UsageErrors.Write(result, problem, Console.Error);
            await WriteDetailsAsync(result, e);
            return UsageErrors.ExitCode;
        }
        catch (ConecException e)
        {
            await Console.Error.WriteLineAsync($"conec: {e.Message} [{e.Error}]{advice?.Invoke(e.Error) ?? Advice(e.Error)}");
            await WriteDetailsAsync(result, e);
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or FormatException)
        {
            // The environment's failures (files, sockets, arguments) get the same one-line treatment as Conec's.
            await Console.Error.WriteLineAsync($"conec: {e.Message}");
            await WriteDetailsAsync(result, e);
            return 1;
        }
    }

    private static async Task WriteDetailsAsync(ParseResult result, Exception e)
    {
        if (result.GetValue(Verbose))
        {
            await Console.Error.WriteLineAsync(e.ToString());
        }
    }

    private static string Advice(ConecError error) => error switch
    {
        ConecError.ConnectionRefused or ConecError.Timeout => " Is the coordinator running, and are host and port right?",
        ConecError.IdInUse => " Choose another --id.",
        ConecError.CoordinatorFull => " Try again once clients have left; its operator can raise --max-clients (and ulimit -n).",
        ConecError.InvalidCertificate => " Check the file paths and that the key matches the certificate.",
        _ => "",
    };
}
