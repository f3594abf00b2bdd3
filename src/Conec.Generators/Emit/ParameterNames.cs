using System.Collections.Generic;
using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>
/// A method's parameters as identifiers in one generated method: the contract's names, escaped, except that one which
/// would hide a name the generated body uses (a <c>writer</c> parameter beside the codec's own writer) is renamed.
/// </summary>
internal sealed class ParameterNames
{
    private readonly MethodModel _method;

    public ParameterNames(MethodModel method, params string[] used)
    {
        _method = method;
        var taken = new HashSet<string>(used);
        var all = method.Parameters.Select(p => p.Name).Concat(method.CancellationTokenName is { } t ? [t] : []).ToArray();
        foreach (var name in all)
        {
            taken.Add(name);
        }

        var identifiers = all.Select(name => used.Contains(name) ? Names.Escape(Names.Unique(name, taken)) : Names.Escape(name)).ToArray();
        Values = identifiers.Take(method.Parameters.Count).ToArray();
        Token = method.CancellationTokenName is null ? null : identifiers[identifiers.Length - 1];
    }

    /// <summary>The identifier of each serialized parameter, in order.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>The identifier of the cancellation token, when the method takes one.</summary>
    public string? Token { get; }

    /// <summary>The parameter list, with the token last when asked for.</summary>
    public string Declarations(bool withToken) => string.Join(", ", _method.Parameters.Select((p, i) => $"{p.Type} {Values[i]}")
        .Concat(withToken && Token is not null ? [$"{Names.Token} {Token}"] : []));

    /// <summary>The serialized parameters as arguments.</summary>
    public string Arguments => string.Join(", ", Values);
}
