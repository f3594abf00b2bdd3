using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Conec.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Conec.Generators.Parsing;

/// <summary>
/// Finds the user types a contract's messages contain (through arrays, generic arguments and members) that need a
/// formatter: int-keyed [MessagePackObject] types and enums. Built-in and framework types are MessagePack's own.
/// </summary>
internal sealed class MessageTypeCollector
{
    private static readonly SymbolDisplayFormat Format = SymbolDisplayFormat.FullyQualifiedFormat;
    private readonly Dictionary<string, MessageTypeModel> _found = new();
    private readonly HashSet<string> _visited = new();

    public void Add(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
        {
            Add(array.ElementType);
            return;
        }

        if (type is not INamedTypeSymbol named || named.SpecialType != SpecialType.None || !_visited.Add(named.ToDisplayString(Format)))
        {
            return;
        }

        foreach (var argument in named.TypeArguments)
        {
            Add(argument);
        }

        var ns = named.ContainingNamespace?.ToDisplayString() ?? "";
        if (ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal) || ns.StartsWith("MessagePack", System.StringComparison.Ordinal))
        {
            return;
        }

        var fullName = named.ToDisplayString(Format);
        var safe = string.Concat(fullName.Replace("global::", "").Select(c => char.IsLetterOrDigit(c) ? c : '_'));
        if (named.TypeKind == TypeKind.Enum)
        {
            _found[fullName] = new MessageTypeModel(fullName, safe, true, named.EnumUnderlyingType!.ToDisplayString(), EquatableArray<MemberModel>.Empty, EquatableArray<StringValue>.Empty);
            return;
        }

        if (named.IsGenericType || !named.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "MessagePack.MessagePackObjectAttribute"))
        {
            return;
        }

        var members = new List<MemberModel>();
        foreach (var member in named.GetMembers().Where(m => !m.IsStatic && m is IPropertySymbol or IFieldSymbol))
        {
            var key = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "MessagePack.KeyAttribute");
            if (key is null)
            {
                continue;
            }

            if (key.ConstructorArguments.FirstOrDefault().Value is not int index)
            {
                return; // String keys are a map; MessagePack's own resolver handles such types.
            }

            var (memberType, settable) = member switch
            {
                IPropertySymbol p => (p.Type, p.SetMethod is { } set && !set.IsInitOnly && set.DeclaredAccessibility == Accessibility.Public),
                IFieldSymbol f => (f.Type, !f.IsReadOnly),
                _ => (null!, false),
            };
            members.Add(new MemberModel(index, member.Name, memberType.ToDisplayString(Format.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier)), settable));
            Add(memberType);
        }

        // The constructor whose parameters all name members (a record's primary constructor, typically), else none.
        var names = new HashSet<string>(members.Select(m => m.Name), System.StringComparer.OrdinalIgnoreCase);
        var constructor = named.InstanceConstructors
            .Where(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.All(p => names.Contains(p.Name)))
            .OrderByDescending(c => c.Parameters.Length)
            .FirstOrDefault();
        if (constructor is null || members.Any(m => !m.Settable && !constructor.Parameters.Any(p => string.Equals(p.Name, m.Name, System.StringComparison.OrdinalIgnoreCase))))
        {
            return; // No way to build it from its keys alone: leave it to MessagePack's resolver.
        }

        var order = constructor.Parameters.Select(p => new StringValue(members.First(m => string.Equals(m.Name, p.Name, System.StringComparison.OrdinalIgnoreCase)).Name));
        _found[fullName] = new MessageTypeModel(fullName, safe, named.IsValueType, null,
            new EquatableArray<MemberModel>(members.OrderBy(m => m.Key).ToImmutableArray()), new EquatableArray<StringValue>(order.ToImmutableArray()));
    }

    public EquatableArray<MessageTypeModel> ToArray() => new(_found.Values.OrderBy(t => t.FullName, System.StringComparer.Ordinal).ToImmutableArray());
}
