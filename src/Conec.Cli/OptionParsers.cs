using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace Conec.Cli;

/// <summary>
/// Parsers for the options whose values are not plain text. Each names its option and what it wants, because
/// System.CommandLine's own conversion errors name .NET types ("as expected type 'System.Int32'").
/// </summary>
internal static class OptionParsers
{
    /// <summary>A whole number; the range is left to the configuration's validator, whose message names the option.</summary>
    public static Func<ArgumentResult, int> Number(string option) => result =>
    {
        var text = Single(result);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        result.AddError($"{option} wants a number, not '{text}'.");
        return 0;
    };

    /// <summary>An IP address (a host name is not one: the listener binds an address, it does not resolve).</summary>
    public static Func<ArgumentResult, IPAddress?> Address(string option) => result =>
    {
        var text = Single(result);
        if (IPAddress.TryParse(text, out var address))
        {
            return address;
        }

        result.AddError($"{option} wants an IP address such as 0.0.0.0, 127.0.0.1 or ::, not '{text}'.");
        return null;
    };

    /// <summary>One of an enum's names, in any case.</summary>
    public static Func<ArgumentResult, TEnum> Choice<TEnum>(string option)
        where TEnum : struct, Enum => result =>
    {
        var text = Single(result);
        if (!int.TryParse(text, out _) && Enum.TryParse<TEnum>(text, ignoreCase: true, out var value))
        {
            return value;
        }

        var names = Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()).ToArray();
        result.AddError($"{option} wants {string.Join(", ", names[..^1])} or {names[^1]}, not '{text}'.");
        return default;
    };

    /// <summary>HOST[:PORT], the client's default port (conec's 1719) when absent; the range is left to the validator.</summary>
    public static Func<ArgumentResult, HostAndPort?> Endpoint(string option) => result =>
    {
        var text = Single(result);
        var colon = text.LastIndexOf(':');
        if (colon < 0 && text.Length > 0)
        {
            return new HostAndPort(text, DefaultPort);
        }

        if (colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return new HostAndPort(text[..colon], port);
        }

        result.AddError($"{option} wants HOST or HOST:PORT, not '{text}'.");
        return null;
    };

    /// <summary>One or several coordinators, comma-separated (the nodes of a cluster): HOST[:PORT][,HOST[:PORT]…].</summary>
    public static Func<ArgumentResult, HostAndPort[]?> Endpoints(string option) => result =>
    {
        var parts = Single(result).Split(',', StringSplitOptions.TrimEntries);
        var endpoints = new List<HostAndPort>();
        foreach (var part in parts)
        {
            var colon = part.LastIndexOf(':');
            if (colon < 0 && part.Length > 0)
            {
                endpoints.Add(new HostAndPort(part, DefaultPort));
            }
            else if (colon > 0 && int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            {
                if (port is < 1 or > 65535)
                {
                    result.AddError($"The port of {option} must be between 1 and 65535.");
                    return null;
                }

                endpoints.Add(new HostAndPort(part[..colon], port));
            }
            else
            {
                result.AddError($"{option} wants HOST[:PORT] or a comma-separated list of them, not '{part}'.");
                return null;
            }
        }

        return [.. endpoints];
    };

    // The runtime's own default, so the tool and the library never disagree on it.
    private static int DefaultPort { get; } = new ClientConfig().CoordinatorPort;

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
}
