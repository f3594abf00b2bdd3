using System.Collections.Generic;
using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>The names and fragments the emitter repeats, in one place.</summary>
internal static class Names
{
    public const string Options = "global::MessagePack.MessagePackSerializerOptions";
    public const string ValueTask = "global::System.Threading.Tasks.ValueTask";
    public const string Token = "global::System.Threading.CancellationToken";
    public const string Memory = "global::System.ReadOnlyMemory<byte>";

    /// <summary>The argument that passes a handler's cancellation token on.</summary>
    public static readonly string[] TokenArgument = ["cancellationToken"];

    // Every record has these members, so a positional property may not take their names.
    private static readonly string[] RecordMembers =
        ["EqualityContract", "Equals", "GetHashCode", "ToString", "GetType", "Deconstruct", "PrintMembers", "MemberwiseClone", "Finalize"];

    /// <summary>
    /// The properties of a one-way method's message record, one per parameter, Pascal-cased. They stay clear of every
    /// message record's name (the records nest in the union, so each inherits the others as members), of the union's,
    /// of the members every record has, and of each other.
    /// </summary>
    public static string[] Properties(ContractModel contract, MethodModel method)
    {
        var taken = new HashSet<string>(contract.Methods.Where(m => m.Kind == MessageKind.OneWay).Select(m => m.Name).Concat(RecordMembers))
        {
            contract.BaseName + "Message",
        };
        return method.Parameters.Select(p =>
        {
            var pascal = char.ToUpperInvariant(p.Name[0]) + p.Name.Substring(1);
            return taken.Add(pascal) ? pascal : Unique(pascal + "Value", taken);
        }).ToArray();
    }

    /// <summary><paramref name="name"/>, or it with the lowest number from 2 that makes it new; the result is taken.</summary>
    public static string Unique(string name, HashSet<string> taken)
    {
        var candidate = name;
        for (var n = 2; !taken.Add(candidate); n++)
        {
            candidate = name + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    /// <summary>The interface method's return type, as declared.</summary>
    public static string ReturnType(MethodModel method)
    {
        if (method.Kind == MessageKind.Stream)
        {
            return $"global::System.Collections.Generic.IAsyncEnumerable<{method.ResultType}>";
        }

        var task = method.ReturnsTask ? "global::System.Threading.Tasks.Task" : ValueTask;
        return method.ResultType is { } result ? $"{task}<{result}>" : task;
    }

    /// <summary>An identifier as written in code: keywords, and <c>await</c> (the generated code has async methods), get an <c>@</c>.</summary>
    public static string Escape(string identifier) =>
        identifier == "await" || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(identifier) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
            ? "@" + identifier
            : identifier;
}
