using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>
/// MessagePack formatters for the contract's own message types, and a resolver that serves them ahead of MessagePack's
/// built-in ones, so no user type goes through the dynamic (Reflection.Emit) resolver.
/// </summary>
internal static partial class ContractEmitter
{
    private const string Formatter = "global::MessagePack.Formatters.IMessagePackFormatter";

    private static void EmitResolver(SourceWriter w, ContractModel c, string access)
    {
        w.Line($"/// <summary>");
        w.Line($"/// Serves generated MessagePack formatters for the message types of <see cref=\"{c.InterfaceReference}\"/>, then");
        w.Line($"/// MessagePack's standard resolver for built-in types. <see cref=\"Options\"/> is what the generated types use by default.");
        w.Line($"/// </summary>");
        w.Open($"{access} sealed class {c.BaseName}Resolver : global::MessagePack.IFormatterResolver");
        w.Line($"/// <summary>The resolver.</summary>");
        w.Line($"public static readonly {c.BaseName}Resolver Instance = new {c.BaseName}Resolver();");
        w.Line();
        w.Line($"/// <summary>Options that use the generated formatters first.</summary>");
        w.Line($"public static readonly {Names.Options} Options = global::MessagePack.MessagePackSerializerOptions.Standard.WithResolver(");
        w.Line($"    global::MessagePack.Resolvers.CompositeResolver.Create(Instance, global::MessagePack.Resolvers.StandardResolver.Instance));");
        w.Line();
        w.Open($"private {c.BaseName}Resolver()");
        w.Close();
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Line($"public {Formatter}<T>? GetFormatter<T>() => Cache<T>.Formatter;");
        w.Line();
        w.Open("private static object? Create(global::System.Type type)");
        foreach (var type in c.MessageTypes)
        {
            w.Open($"if (type == typeof({type.FullName}))");
            w.Line($"return new {type.SafeName}Formatter();");
            w.Close();
            w.Line();
        }

        w.Line("return null;");
        w.Close();
        w.Line();
        w.Open("private static class Cache<T>");
        w.Line($"public static readonly {Formatter}<T>? Formatter = ({Formatter}<T>?)Create(typeof(T));");
        w.Close();
        foreach (var type in c.MessageTypes)
        {
            w.Line();
            if (type.EnumUnderlyingType is { } underlying)
            {
                EmitEnumFormatter(w, type, underlying);
            }
            else
            {
                EmitObjectFormatter(w, type);
            }
        }

        w.Close();
        w.Line();
    }

    private static void EmitEnumFormatter(SourceWriter w, MessageTypeModel type, string underlying)
    {
        w.Open($"private sealed class {type.SafeName}Formatter : {Formatter}<{type.FullName}>");
        w.Line($"public void Serialize(ref global::MessagePack.MessagePackWriter writer, {type.FullName} value, {Names.Options} options) => writer.Write(({underlying})value);");
        w.Line();
        w.Line($"public {type.FullName} Deserialize(ref global::MessagePack.MessagePackReader reader, {Names.Options} options) =>");
        w.Line($"    ({type.FullName})global::MessagePack.FormatterResolverExtensions.GetFormatterWithVerify<{underlying}>(options.Resolver).Deserialize(ref reader, options);");
        w.Close();
    }

    private static void EmitObjectFormatter(SourceWriter w, MessageTypeModel type)
    {
        var nullable = type.IsValueType ? type.FullName : type.FullName + "?";
        var length = type.Members.Count == 0 ? 0 : type.Members.Max(m => m.Key) + 1;
        w.Open($"private sealed class {type.SafeName}Formatter : {Formatter}<{nullable}>");
        w.Open($"public void Serialize(ref global::MessagePack.MessagePackWriter writer, {nullable} value, {Names.Options} options)");
        if (!type.IsValueType)
        {
            w.Open("if (value is null)");
            w.Line("writer.WriteNil();");
            w.Line("return;");
            w.Close();
            w.Line();
        }

        w.Line($"writer.WriteArrayHeader({length});");
        for (var key = 0; key < length; key++)
        {
            var member = type.Members.FirstOrDefault(m => m.Key == key);
            w.Line(member is null
                ? "writer.WriteNil();"
                : $"global::MessagePack.FormatterResolverExtensions.GetFormatterWithVerify<{member.Type}>(options.Resolver).Serialize(ref writer, value.{member.Name}, options);");
        }

        w.Close();
        w.Line();
        w.Open($"public {nullable} Deserialize(ref global::MessagePack.MessagePackReader reader, {Names.Options} options)");
        if (!type.IsValueType)
        {
            w.Open("if (reader.TryReadNil())");
            w.Line("return null;");
            w.Close();
            w.Line();
        }

        foreach (var member in type.Members)
        {
            w.Line($"{member.Type} {Local(member)} = default!;");
        }

        w.Line("var count = reader.ReadArrayHeader();");
        w.Open("for (var i = 0; i < count; i++)");
        w.Open("switch (i)");
        foreach (var member in type.Members)
        {
            w.Line($"case {member.Key}:");
            w.Line($"    {Local(member)} = global::MessagePack.FormatterResolverExtensions.GetFormatterWithVerify<{member.Type}>(options.Resolver).Deserialize(ref reader, options);");
            w.Line("    break;");
        }

        w.Line("default:");
        w.Line("    reader.Skip();");
        w.Line("    break;");
        w.Close();
        w.Close();
        w.Line();
        var arguments = string.Join(", ", type.ConstructorMembers.Select(name => Local(type.Members.First(m => m.Name == name.Value))));
        var assigned = type.Members.Where(m => m.Settable && !type.ConstructorMembers.Any(n => n.Value == m.Name)).ToArray();
        var initializer = assigned.Length == 0 ? "" : " { " + string.Join(", ", assigned.Select(m => $"{m.Name} = {Local(m)}")) + " }";
        w.Line($"return new {type.FullName}({arguments}){initializer};");
        w.Close();
        w.Close();
    }

    private static string Local(MemberModel member) => "__" + member.Name;
}
