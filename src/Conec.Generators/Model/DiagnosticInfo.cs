using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Conec.Generators.Model;

/// <summary>A diagnostic to report, with its location as values (a <see cref="Location"/> would hold the syntax tree).</summary>
internal sealed record DiagnosticInfo(string Id, string FilePath, TextSpan Span, LinePositionSpan LineSpan, EquatableArray<StringValue> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] arguments)
    {
        var span = location?.GetLineSpan();
        return new DiagnosticInfo(
            descriptor.Id,
            span?.Path ?? "",
            location?.SourceSpan ?? default,
            span?.Span ?? default,
            new EquatableArray<StringValue>(System.Collections.Immutable.ImmutableArray.CreateRange(System.Linq.Enumerable.Select(arguments, a => new StringValue(a)))));
    }

    public Diagnostic ToDiagnostic()
    {
        var location = FilePath.Length == 0 ? Location.None : Location.Create(FilePath, Span, LineSpan);
        var arguments = new object[Arguments.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = Arguments[i].Value;
        }

        return Diagnostic.Create(Diagnostics.ById(Id), location, arguments);
    }
}

/// <summary>A string that can sit in an <see cref="EquatableArray{T}"/>.</summary>
internal readonly record struct StringValue(string Value);
