using System.CommandLine;
using System.CommandLine.Parsing;

namespace Conec.Cli;

/// <summary>
/// A command line the tool cannot run, told in two lines: what was wrong, and which help to read. System.CommandLine
/// would print the whole help under the error, which buries the one line that matters.
/// </summary>
internal static class UsageErrors
{
    /// <summary>The conventional exit code of a usage error (as in BSD's sysexits and most Unix tools).</summary>
    public const int ExitCode = 2;

    /// <summary>Writes the first thing wrong with <paramref name="result"/> and where its help is.</summary>
    public static void Write(ParseResult result, TextWriter error)
    {
        error.WriteLine($"conec: {Describe(result)}");
        error.WriteLine(HelpHint(result.CommandResult));
    }

    /// <summary>Writes a usage error found after parsing (such as a validator's), with the command's help.</summary>
    public static void Write(ParseResult result, string problem, TextWriter error)
    {
        error.WriteLine($"conec: {problem}");
        error.WriteLine(HelpHint(result.CommandResult));
    }

    private static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        var path = CommandPath(result.CommandResult);
        if (result.UnmatchedTokens.Count > 0)
        {
            var token = result.UnmatchedTokens[0];
            return token.StartsWith('-') ? $"'{path}' has no option '{token}'."
                : command.Subcommands.Count > 0 ? $"'{token}' is not a command of '{path}' (its commands are {Names(command, "and")})."
                : $"'{path}' takes no argument '{token}'.";
        }

        // A command that only groups others (certs) would be "Required command was not provided.": name them instead.
        if (command.Subcommands.Count > 0 && command.Action is null)
        {
            return $"'{path}' needs a command: {Names(command, "or")}.";
        }

        return result.Errors[0].Message;
    }

    private static string HelpHint(CommandResult command) => $"See '{CommandPath(command)} --help'.";

    /// <summary>The command as typed, from `conec`: the root command's own name is the host process's (a test host's, in-process).</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? at = command; at is CommandResult { Parent: not null } sub; at = sub.Parent)
        {
            names.Add(sub.Command.Name);
        }

        names.Add("conec");
        names.Reverse();
        return string.Join(' ', names);
    }

    private static string Names(Command command, string conjunction)
    {
        var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToArray();
        return names.Length == 1 ? names[0] : $"{string.Join(", ", names[..^1])} {conjunction} {names[^1]}";
    }
}
