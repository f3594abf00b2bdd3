using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Conec.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Conec.Generators.Parsing;

/// <summary>
/// Which members of an interface make up the contract, and the shapes of interface the generated client, sender and
/// server could not implement or call.
/// </summary>
internal static class ContractRules
{
    /// <summary>
    /// Whether <paramref name="member"/> is one the contract's implementations provide and the generated code must
    /// serve. Members with bodies that cannot be overridden (private, sealed, static) are the interface's own helpers.
    /// </summary>
    public static bool IsContractMember(ISymbol member, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        if (member is INamedTypeSymbol or IMethodSymbol { MethodKind: not (MethodKind.Ordinary or MethodKind.UserDefinedOperator or MethodKind.Conversion) })
        {
            return false; // nested types, and accessors, which come with their property or event
        }

        if (!member.IsAbstract && !member.IsVirtual)
        {
            return false;
        }

        if (member.IsStatic)
        {
            // A static virtual member has a body and asks nothing of implementations; a static abstract one would be
            // the generated client's and sender's to implement, for a type no call ever reaches.
            if (member.IsAbstract)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.StaticAbstractMember, member.Locations.FirstOrDefault(), Describe(member)));
            }

            return false;
        }

        if (member.DeclaredAccessibility is Accessibility.Protected or Accessibility.ProtectedAndInternal)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NonPublicMember, member.Locations.FirstOrDefault(), Describe(member),
                member.DeclaredAccessibility == Accessibility.Protected ? "protected" : "private protected"));
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reports abstract members of base interfaces the contract neither implements nor redeclares: the generated types
    /// implement the contract's own methods only, so they would not compile.
    /// </summary>
    public static void CheckInherited(INamedTypeSymbol contract, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        foreach (var direct in contract.Interfaces)
        {
            var unserved = direct.AllInterfaces.Add(direct)
                .SelectMany(i => i.GetMembers())
                .Where(m => m.IsAbstract && m is not IMethodSymbol { MethodKind: not (MethodKind.Ordinary or MethodKind.UserDefinedOperator or MethodKind.Conversion) })
                .Where(m => contract.FindImplementationForInterfaceMember(m) is null && !IsRedeclared(contract, m))
                .Select(m => "'" + m.ContainingType.Name + "." + m.Name + "'")
                .Distinct()
                .ToArray();
            if (unserved.Length > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InheritedMember, BaseLocation(contract, direct), contract.Name,
                    string.Join(", ", unserved), direct.Name));
            }
        }
    }

    /// <summary>
    /// Reports a contract the generated code cannot name: it sits at namespace level, beside the contract's outermost
    /// type, so a file-local contract, or a private or protected one (or one nested in such a type), is out of its reach.
    /// </summary>
    public static void CheckReachable(INamedTypeSymbol contract, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        for (var type = contract; type is not null; type = type.ContainingType)
        {
            var why = type.IsFileLocal ? "file-local" : type.DeclaredAccessibility switch
            {
                Accessibility.Private => "private",
                Accessibility.Protected => "protected",
                Accessibility.ProtectedAndInternal => "private protected",
                _ => null,
            };
            if (why is not null)
            {
                var where = SymbolEqualityComparer.Default.Equals(type, contract) ? why : $"nested in '{type.Name}', which is {why}";
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnreachableContract, contract.Locations.FirstOrDefault(), contract.Name, where));
                return;
            }
        }
    }

    /// <summary>
    /// Why the generated code cannot have a member named like <paramref name="method"/>, or null: C# forbids a member
    /// named like its type, the client has its own DisposeAsync, and one-way methods become records nested in the
    /// message union, beside the members every record has.
    /// </summary>
    public static string? ReservedNameReason(IMethodSymbol method, string baseName, bool oneWay)
    {
        var name = method.Name;
        // The client and sender name the codec and the ids: a method of that name there would hide the class.
        var types = oneWay
            ? new[] { baseName + "MethodIds", baseName + "Codec", baseName + "Client", baseName + "Sender", baseName + "Message", "I" + baseName + "BroadcastHandler" }
            : new[] { baseName + "MethodIds", baseName + "Codec", baseName + "Client" };
        if (types.Contains(name))
        {
            return $"it is the name of the generated type '{name}'";
        }

        if (name == "DisposeAsync" && method.Parameters.Length == 0)
        {
            return $"the generated {baseName}Client has its own DisposeAsync(), which ends the stream";
        }

        if (name is "WithDeadline" or "WithTimeout")
        {
            return $"the generated {baseName}Client has its own {name}, which makes a client whose calls have a deadline";
        }

        return oneWay && RecordMembers.Contains(name)
            ? $"one-way methods become records nested in '{baseName}Message', and every record has a member named '{name}'"
            : null;
    }

    /// <summary>
    /// Why a method named <c>XResult</c> clashes in the codec, or null: <c>EncodeXResult</c> encodes the result of
    /// <c>X</c>, and would also encode the arguments of <c>XResult</c> when it takes one value of that type.
    /// </summary>
    public static string? ResultEncoderClash(IMethodSymbol method, int serializedParameters, IEnumerable<IMethodSymbol> methods, string baseName)
    {
        if (serializedParameters != 1 || !method.Name.EndsWith("Result", System.StringComparison.Ordinal))
        {
            return null;
        }

        var owner = methods.FirstOrDefault(m => m.Name + "Result" == method.Name && m.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } returned
            && SymbolEqualityComparer.Default.Equals(returned.TypeArguments[0], method.Parameters[0].Type));
        return owner is null ? null : $"the generated {baseName}Codec.Encode{method.Name} already encodes the result of '{owner.Name}'";
    }

    /// <summary>
    /// Why a method named <c>XItem</c> clashes in the codec, or null: <c>EncodeXItem</c> encodes an item of the
    /// streamed argument of <c>X</c>, and would also encode the arguments of <c>XItem</c> when it takes one value of that type.
    /// </summary>
    public static string? ItemEncoderClash(IMethodSymbol method, int serializedParameters, IEnumerable<IMethodSymbol> methods, string baseName)
    {
        if (serializedParameters != 1 || !method.Name.EndsWith("Item", System.StringComparison.Ordinal))
        {
            return null;
        }

        var value = method.Parameters.First(p => p.Type.ToDisplayString() != "System.Threading.CancellationToken").Type;
        var owner = methods.FirstOrDefault(m => m.Name + "Item" == method.Name && m.Parameters.Any(p =>
            p.Type is INamedTypeSymbol { TypeArguments.Length: 1 } streamed
            && streamed.OriginalDefinition.ToDisplayString() == "System.Collections.Generic.IAsyncEnumerable<T>"
            && SymbolEqualityComparer.Default.Equals(streamed.TypeArguments[0], value)));
        return owner is null ? null : $"the generated {baseName}Codec.Encode{method.Name} already encodes an item of the streamed argument of '{owner.Name}'";
    }

    private static readonly string[] RecordMembers =
        ["Equals", "GetHashCode", "ToString", "GetType", "MemberwiseClone", "Finalize", "EqualityContract", "Deconstruct", "PrintMembers"];

    /// <summary>A method the contract declares again (with <c>new</c>): the generated method implements both.</summary>
    private static bool IsRedeclared(INamedTypeSymbol contract, ISymbol inherited) =>
        inherited is IMethodSymbol method && contract.GetMembers(method.Name).OfType<IMethodSymbol>().Any(own =>
            SymbolEqualityComparer.Default.Equals(own.ReturnType, method.ReturnType)
            && own.Parameters.Length == method.Parameters.Length
            && own.Parameters.Zip(method.Parameters, (a, b) => SymbolEqualityComparer.Default.Equals(a.Type, b.Type) && a.RefKind == b.RefKind).All(same => same));

    /// <summary>Where the contract names <paramref name="direct"/> in its base list, else the contract's name.</summary>
    private static Location? BaseLocation(INamedTypeSymbol contract, INamedTypeSymbol direct)
    {
        foreach (var reference in contract.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not InterfaceDeclarationSyntax { BaseList: { } list })
            {
                continue;
            }

            foreach (var type in list.Types)
            {
                var name = type.Type switch
                {
                    QualifiedNameSyntax qualified => qualified.Right.Identifier.Text,
                    AliasQualifiedNameSyntax aliased => aliased.Name.Identifier.Text,
                    SimpleNameSyntax simple => simple.Identifier.Text,
                    _ => null,
                };
                if (name == direct.Name)
                {
                    return type.GetLocation();
                }
            }
        }

        return contract.Locations.FirstOrDefault();
    }

    private static string Describe(ISymbol member) => member switch
    {
        IMethodSymbol { MethodKind: MethodKind.UserDefinedOperator or MethodKind.Conversion } =>
            "operator " + Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetText(Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetOperatorKind(member.Name)),
        _ => member.Name,
    };
}
