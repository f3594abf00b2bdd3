using System.Collections.Immutable;
using System.Linq;
using Conec.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Conec.Generators.Parsing;

/// <summary>
/// The namespace and prefix of the types one contract generates, to find two contracts whose types would collide
/// (<c>A.IPing</c> and <c>B.IPing</c> both make <c>PingClient</c>), with where to report it.
/// </summary>
internal sealed record GeneratedNames(string? Namespace, string BaseName, string Contract, DiagnosticInfo Clash)
{
    public static GeneratedNames Of(INamedTypeSymbol contract)
    {
        var ns = contract.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        var name = contract.ToDisplayString();
        return new GeneratedNames(ns, ContractParser.BaseName(contract.Name), name,
            DiagnosticInfo.Create(Diagnostics.ClashingContracts, contract.Locations.FirstOrDefault(), name));
    }

    /// <summary>A diagnostic at each contract whose types an earlier one (in source order) already generates.</summary>
    public static ImmutableArray<DiagnosticInfo> Clashes(ImmutableArray<GeneratedNames> contracts)
    {
        var clashes = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        foreach (var group in contracts.GroupBy(c => (c.Namespace, c.BaseName)).Where(g => g.Count() > 1))
        {
            var ordered = group.OrderBy(c => c.Clash.FilePath, System.StringComparer.Ordinal).ThenBy(c => c.Clash.Span.Start).ToArray();
            var where = ordered[0].Namespace is { } ns ? $"namespace '{ns}'" : "the global namespace";
            foreach (var later in ordered.Skip(1))
            {
                clashes.Add(later.Clash with
                {
                    Arguments = new EquatableArray<StringValue>(ImmutableArray.Create(
                        new StringValue(later.Contract), new StringValue(ordered[0].Contract), new StringValue(later.BaseName), new StringValue(where))),
                });
            }
        }

        return clashes.ToImmutable();
    }
}
