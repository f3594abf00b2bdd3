using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>A contract's name and its methods' names by id, for call contexts, filters and traces.</summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcContract
{
    private readonly Func<int, string?> _methodNames;

    /// <summary>A contract named <paramref name="name"/> whose method names <paramref name="methodNames"/> looks up.</summary>
    public RpcContract(string name, Func<int, string?> methodNames)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(methodNames);
        Name = name;
        _methodNames = methodNames;
    }

    /// <summary>For hand-built clients that know no contract (tests): every method is named by its id.</summary>
    internal static RpcContract Unnamed { get; } = new("(unnamed contract)", _ => null);

    /// <summary>The contract's full name.</summary>
    public string Name { get; }

    /// <summary>The method's name, or null when the contract has no method of that id.</summary>
    public string? NameOf(int methodId) => _methodNames(methodId);
}
