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
        var all = method.Parameters.Select(p => p.Name)
            .Concat(method.Streamed is { } s ? [s.Name] : [])
            .Concat(method.CancellationTokenName is { } t ? [t] : []).ToArray();
        foreach (var name in all)
        {
            taken.Add(name);
        }

        var identifiers = all.Select(name => used.Contains(name) ? Names.Escape(Names.Unique(name, taken)) : Names.Escape(name)).ToArray();
        Values = identifiers.Take(method.Parameters.Count).ToArray();
        Streamed = method.Streamed is null ? null : identifiers[method.Parameters.Count];
        Token = method.CancellationTokenName is null ? null : identifiers[identifiers.Length - 1];
    }

    /// <summary>The identifier of each serialized parameter, in order.</summary>
    public IReadOnlyList<string> Values { get; }

    /// <summary>The identifier of the streamed parameter, when the method has one.</summary>
    public string? Streamed { get; }

    /// <summary>The identifier of the cancellation token, when the method takes one.</summary>
    public string? Token { get; }

    /// <summary>
    /// With <paramref name="all"/>, the parameter list as declared (the streamed parameter in its place, the token
    /// last); without, the serialized parameters only, as the codec takes them.
    /// </summary>
    public string Declarations(bool all) => string.Join(", ", InOrder(
            _method.Parameters.Select((p, i) => $"{p.Type} {Values[i]}"),
            all && _method.Streamed is { } s ? $"global::System.Collections.Generic.IAsyncEnumerable<{s.ItemType}> {Streamed}" : null)
        .Concat(all && Token is not null ? [$"{Names.Token} {Token}"] : []));

    /// <summary>The serialized parameters as arguments.</summary>
    public string Arguments => string.Join(", ", Values);

    /// <summary>
    /// The arguments of a call to the contract method, in declaration order: the serialized values, with
    /// <paramref name="streamed"/> in the streamed parameter's place.
    /// </summary>
    public IEnumerable<string> InDeclarationOrder(IEnumerable<string> values, string? streamed) => InOrder(values, streamed);

    private List<string> InOrder(IEnumerable<string> values, string? streamed)
    {
        var list = values.ToList();
        if (streamed is not null && _method.Streamed is { } s)
        {
            list.Insert(s.Position, streamed);
        }

        return list;
    }
}
