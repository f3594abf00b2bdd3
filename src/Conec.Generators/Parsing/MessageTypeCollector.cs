using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Conec.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Conec.Generators.Parsing;

/// <summary>
/// Decides how each value a contract carries is written and read. Primitives, strings, byte arrays, enums, int-keyed
/// [MessagePackObject] types, nullable values, arrays, lists and dictionaries get generated code over
/// MessagePackWriter/MessagePackReader, with MessagePack's own wire layout; anything else goes through
/// MessagePackSerializer. Generated code never touches MessagePackSerializerOptions, whose static constructor reaches
/// MessagePack's dynamic resolvers, so a contract built only from the former is clean under Native AOT.
/// </summary>
internal sealed class MessageTypeCollector
{
    private static readonly SymbolDisplayFormat Format = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly Dictionary<SpecialType, (string Keyword, string Read)> Primitives = new()
    {
        [SpecialType.System_Boolean] = ("bool", "ReadBoolean"),
        [SpecialType.System_Char] = ("char", "ReadChar"),
        [SpecialType.System_SByte] = ("sbyte", "ReadSByte"),
        [SpecialType.System_Byte] = ("byte", "ReadByte"),
        [SpecialType.System_Int16] = ("short", "ReadInt16"),
        [SpecialType.System_UInt16] = ("ushort", "ReadUInt16"),
        [SpecialType.System_Int32] = ("int", "ReadInt32"),
        [SpecialType.System_UInt32] = ("uint", "ReadUInt32"),
        [SpecialType.System_Int64] = ("long", "ReadInt64"),
        [SpecialType.System_UInt64] = ("ulong", "ReadUInt64"),
        [SpecialType.System_Single] = ("float", "ReadSingle"),
        [SpecialType.System_Double] = ("double", "ReadDouble"),
        [SpecialType.System_DateTime] = ("global::System.DateTime", "ReadDateTime"),
    };

    private readonly string _values;
    private readonly Dictionary<string, MessageTypeModel> _found = new();
    private readonly Dictionary<string, string> _objectHelpers = new();
    private readonly Dictionary<string, HelperModel> _helpers = new();
    private readonly HashSet<string> _helperNames = new();
    private readonly List<string> _fallbacks = new();
    private readonly List<UnsendableValue> _unsendable = new();

    /// <param name="valuesClass">The generated class that holds the Write…/Read… pairs.</param>
    public MessageTypeCollector(string valuesClass) => _values = valuesClass;

    /// <summary>
    /// How a value of <paramref name="type"/>, as declared, is written and read; <paramref name="what"/> names it in the
    /// error for a nil where the declared type has no null.
    /// </summary>
    public CodecModel Plan(ITypeSymbol type, string what)
    {
        // Readers of references return the nullable form. A non-nullable reference must not take a peer's nil (where
        // MessagePack's own formatters would hand back null); code that says nothing about nulls keeps accepting them.
        var codec = PlanShape(type.WithNullableAnnotation(NullableAnnotation.NotAnnotated), what);
        return !type.IsReferenceType ? codec : type.NullableAnnotation switch
        {
            NullableAnnotation.Annotated => codec,
            NullableAnnotation.NotAnnotated => codec with { Read = $"{codec.Read} ?? throw {RuntimeNames.TypedMessages}.MissingValue(\"{what}\")" },
            _ => codec with { Read = codec.Read + "!" },
        };
    }

    private CodecModel PlanShape(ITypeSymbol type, string what)
    {
        if (UnsendableTypes.Reason(type) is { } reason)
        {
            // An error: the contract gets no code, so how this would have been written does not matter.
            _unsendable.Add(new UnsendableValue(what, type.ToDisplayString(), reason));
            return Fallback(type, what);
        }

        if (Primitives.TryGetValue(type.SpecialType, out var primitive))
        {
            return new CodecModel("writer.Write({0})", $"reader.{primitive.Read}()");
        }

        switch (type)
        {
            case { SpecialType: SpecialType.System_String }:
                return new CodecModel("writer.Write({0})", "reader.ReadString()");
            case IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte }:
                return new CodecModel("writer.Write({0})", RuntimeNames.TypedMessages + ".ReadBytes(ref reader)");
            case IArrayTypeSymbol { Rank: 1 } array:
                return Helper(HelperKind.Array, type, "ArrayOf" + Describe(array.ElementType), array.ElementType, null, what);
            case INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable:
                return Helper(HelperKind.Nullable, type, "NullableOf" + Describe(nullable.TypeArguments[0]), nullable.TypeArguments[0], null, what);
            case INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType:
                return PlanEnum(enumType);
            case INamedTypeSymbol named when IsFramework(named):
                return PlanFramework(named, what);
            case INamedTypeSymbol named when PlanObject(named) is { } helper:
                return new CodecModel($"{_values}.Write{helper}(ref writer, {{0}})", $"{_values}.Read{helper}(ref reader)");
            default:
                return Fallback(type, what);
        }
    }

    private CodecModel PlanFramework(INamedTypeSymbol named, string what)
    {
        var definition = named.OriginalDefinition.ToDisplayString();
        var outer = named.Name;
        switch (definition)
        {
            case "System.Guid":
                return new CodecModel(RuntimeNames.TypedMessages + ".WriteGuid(ref writer, {0})", RuntimeNames.TypedMessages + ".ReadGuid(ref reader)");
            case "System.TimeSpan":
                return new CodecModel("writer.Write(({0}).Ticks)", "new global::System.TimeSpan(reader.ReadInt64())");
            case "System.Collections.Generic.List<T>" or "System.Collections.Generic.IList<T>" or "System.Collections.Generic.ICollection<T>"
                or "System.Collections.Generic.IReadOnlyList<T>" or "System.Collections.Generic.IReadOnlyCollection<T>":
                return Helper(HelperKind.List, named, outer + "Of" + Describe(named.TypeArguments[0]), named.TypeArguments[0], null, what);
            case "System.Collections.Generic.Dictionary<TKey, TValue>" or "System.Collections.Generic.IDictionary<TKey, TValue>"
                or "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>":
                return Helper(HelperKind.Dictionary, named, $"{outer}Of{Describe(named.TypeArguments[0])}And{Describe(named.TypeArguments[1])}",
                    named.TypeArguments[0], named.TypeArguments[1], what);
            default:
                return Fallback(named, what);
        }
    }

    private CodecModel PlanEnum(INamedTypeSymbol enumType)
    {
        var underlying = Primitives[enumType.EnumUnderlyingType!.SpecialType];
        var fullName = enumType.ToDisplayString(Format);
        if (_found.TryGetValue(fullName, out var known))
        {
            return known.Codec;
        }

        var codec = new CodecModel($"writer.Write(({underlying.Keyword}){{0}})", $"({fullName})reader.{underlying.Read}()");
        _found[fullName] = new MessageTypeModel(fullName, Unique(enumType.Name), codec, true, underlying.Keyword,
            EquatableArray<MemberModel>.Empty, EquatableArray<StringValue>.Empty);
        return codec;
    }

    /// <summary>MessagePackSerializer with its default options: correct for any type MessagePack knows, but not AOT-safe.</summary>
    private CodecModel Fallback(ITypeSymbol type, string what)
    {
        // MessagePack serializes what such a type holds, so what it holds must be sendable too (a Tuple<Task<int>>).
        var inside = type switch
        {
            INamedTypeSymbol named => named.TypeArguments,
            IArrayTypeSymbol array => ImmutableArray.Create(array.ElementType),
            _ => ImmutableArray<ITypeSymbol>.Empty,
        };
        foreach (var held in inside)
        {
            if (UnsendableTypes.Reason(held) is { } reason)
            {
                _unsendable.Add(new UnsendableValue(what, held.ToDisplayString(), reason));
            }
        }

        var name = type.ToDisplayString(Format);
        _fallbacks.Add(type.ToDisplayString());
        var nullable = type.IsReferenceType ? name + "?" : name;
        return new CodecModel("global::MessagePack.MessagePackSerializer.Serialize(ref writer, {0})",
            $"global::MessagePack.MessagePackSerializer.Deserialize<{nullable}>(ref reader)");
    }

    private CodecModel Helper(HelperKind kind, ITypeSymbol type, string name, ITypeSymbol element, ITypeSymbol? value, string what)
    {
        var fullName = type.ToDisplayString(Format);
        if (!_helpers.TryGetValue(fullName, out var helper))
        {
            // A collection cannot contain itself except through an object, whose helper is registered before its
            // members are planned, so planning the elements first always ends.
            var shown = type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
            var elementCodec = Plan(element, kind switch
            {
                HelperKind.Nullable => what, // the value of a T? stands where the T? does
                HelperKind.Dictionary => "a key of " + shown,
                _ => "an element of " + shown,
            });
            var valueCodec = value is null ? null : Plan(value, "a value of " + shown);
            var parameterType = type.IsReferenceType ? fullName + "?" : fullName;
            helper = new HelperModel(Unique(name), kind, parameterType, element.ToDisplayString(Format), elementCodec,
                value?.ToDisplayString(Format), valueCodec);
            _helpers[fullName] = helper;
        }

        return new CodecModel($"{_values}.Write{helper.Name}(ref writer, {{0}})", $"{_values}.Read{helper.Name}(ref reader)");
    }

    /// <summary>The helper name of an int-keyed [MessagePackObject] type the generator can build, else null.</summary>
    private string? PlanObject(INamedTypeSymbol named)
    {
        var fullName = named.ToDisplayString(Format);
        if (_objectHelpers.TryGetValue(fullName, out var known))
        {
            return known;
        }

        if (named.IsGenericType || !named.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "MessagePack.MessagePackObjectAttribute"))
        {
            return null;
        }

        var keyed = new List<(int Key, ISymbol Member, ITypeSymbol Type, bool Settable)>();
        foreach (var member in named.GetMembers().Where(m => !m.IsStatic && m is IPropertySymbol or IFieldSymbol))
        {
            var key = member.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "MessagePack.KeyAttribute");
            if (key is null)
            {
                continue;
            }

            if (key.ConstructorArguments.FirstOrDefault().Value is not int index)
            {
                return null; // String keys are a map; MessagePack's own resolver handles such types.
            }

            keyed.Add(member switch
            {
                IPropertySymbol p => (index, member, p.Type, p.SetMethod is { } set && !set.IsInitOnly && set.DeclaredAccessibility == Accessibility.Public),
                IFieldSymbol f => (index, member, f.Type, !f.IsReadOnly),
                _ => throw new System.InvalidOperationException("only properties and fields are selected"),
            });
        }

        // The constructor whose parameters all name members (a record's primary constructor, typically), else none.
        var names = new HashSet<string>(keyed.Select(m => m.Member.Name), System.StringComparer.OrdinalIgnoreCase);
        var constructor = named.InstanceConstructors
            .Where(c => c.DeclaredAccessibility == Accessibility.Public && c.Parameters.All(p => names.Contains(p.Name)))
            .OrderByDescending(c => c.Parameters.Length)
            .FirstOrDefault();
        if (constructor is null || keyed.Any(m => !m.Settable && !constructor.Parameters.Any(p => string.Equals(p.Name, m.Member.Name, System.StringComparison.OrdinalIgnoreCase))))
        {
            return null; // No way to build it from its keys alone: leave it to MessagePack's resolver.
        }

        var helper = Unique(named.Name);
        _objectHelpers[fullName] = helper; // before the members, so a type that contains itself ends the recursion here
        var members = keyed
            .Select(m => PlanMember(named, m.Key, m.Member.Name, m.Type, m.Settable))
            .OrderBy(m => m.Key)
            .ToImmutableArray();
        var order = constructor.Parameters.Select(p => new StringValue(keyed.First(m => string.Equals(m.Member.Name, p.Name, System.StringComparison.OrdinalIgnoreCase)).Member.Name));
        var codec = new CodecModel($"{_values}.Write{helper}(ref writer, {{0}})", $"{_values}.Read{helper}(ref reader)");
        _found[fullName] = new MessageTypeModel(fullName, helper, codec, named.IsValueType, null,
            new EquatableArray<MemberModel>(members), new EquatableArray<StringValue>(order.ToImmutableArray()));
        return helper;
    }

    /// <summary>
    /// A member is read into a nullable local, since its key may be missing; one declared as a non-nullable reference
    /// must then have a value, checked when the object is built.
    /// </summary>
    private MemberModel PlanMember(INamedTypeSymbol owner, int key, string name, ITypeSymbol type, bool settable)
    {
        var codec = PlanShape(type.WithNullableAnnotation(NullableAnnotation.NotAnnotated), owner.Name + "." + name);
        var local = type.IsReferenceType ? type.WithNullableAnnotation(NullableAnnotation.Annotated) : type;
        var required = type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.NotAnnotated ? owner.Name + "." + name : null;
        return new MemberModel(key, name, local.ToDisplayString(Format), codec, required, settable);
    }

    private static bool IsFramework(INamedTypeSymbol named)
    {
        var ns = named.ContainingNamespace?.ToDisplayString() ?? "";
        return ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal) || ns.StartsWith("MessagePack", System.StringComparison.Ordinal);
    }

    /// <summary>A readable name for a type inside a helper's name: <c>Int32</c>, <c>Item</c>, <c>ArrayOfString</c>.</summary>
    private static string Describe(ITypeSymbol type) => type switch
    {
        IArrayTypeSymbol array => "ArrayOf" + Describe(array.ElementType),
        INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable => "NullableOf" + Describe(nullable.TypeArguments[0]),
        INamedTypeSymbol { IsGenericType: true } generic => generic.Name + "Of" + string.Join("And", generic.TypeArguments.Select(Describe)),
        _ => type.Name,
    };

    private string Unique(string name)
    {
        var candidate = name;
        for (var n = 2; !_helperNames.Add(candidate); n++)
        {
            candidate = name + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    /// <summary>The types planned since the last call that go through MessagePackSerializer (each is reported once).</summary>
    public IReadOnlyList<string> TakeFallbacks()
    {
        var taken = _fallbacks.Distinct().ToArray();
        _fallbacks.Clear();
        return taken;
    }

    /// <summary>The values planned since the last call that cannot be sent at all.</summary>
    public IReadOnlyList<UnsendableValue> TakeUnsendable()
    {
        var taken = _unsendable.Distinct().ToArray();
        _unsendable.Clear();
        return taken;
    }

    public EquatableArray<MessageTypeModel> ToArray() => new(_found.Values.OrderBy(t => t.FullName, System.StringComparer.Ordinal).ToImmutableArray());

    public EquatableArray<HelperModel> Helpers() => new(_helpers.Values.OrderBy(h => h.Name, System.StringComparer.Ordinal).ToImmutableArray());
}

/// <summary>A value found while planning that no serializer can send: where it is, its type, and why.</summary>
internal readonly record struct UnsendableValue(string Where, string Type, string Reason);
