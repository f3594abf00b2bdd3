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
    public const string Typed = "global::Conec.TypedMessages";

    /// <summary>The argument that passes a handler's cancellation token on.</summary>
    public static readonly string[] TokenArgument = ["cancellationToken"];

    /// <summary>The record property for a parameter; never the record's own name (C# forbids a member named like its type).</summary>
    public static string Property(MethodModel method, ParameterModel parameter) =>
        parameter.PropertyName == method.Name ? parameter.PropertyName + "Value" : parameter.PropertyName;

    public static string ParameterList(MethodModel method, bool withToken) =>
        string.Join(", ", method.Parameters.Select(p => $"{p.Type} {Escape(p.Name)}")
            .Concat(withToken && method.CancellationTokenName is { } token ? [$"{Token} {Escape(token)}"] : System.Array.Empty<string>()));

    public static string ArgumentList(MethodModel method) => string.Join(", ", method.Parameters.Select(p => Escape(p.Name)));

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

    public static string Escape(string identifier) => Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(identifier) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
        ? "@" + identifier
        : identifier;
}
