using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>
/// The contract's value code: a class of Write…/Read… pairs over MessagePackWriter/MessagePackReader for its own
/// message types, nullable values and collections (what the generated senders, receivers and RPC use), and a
/// MessagePack resolver over the same pairs for users who serialize those types with MessagePackSerializer.
/// </summary>
internal static partial class ContractEmitter
{
    private const string Formatter = "global::MessagePack.Formatters.IMessagePackFormatter";
    private const string Writer = "ref global::MessagePack.MessagePackWriter writer";
    private const string Reader = "ref global::MessagePack.MessagePackReader reader";

    private static void EmitResolver(SourceWriter w, ContractModel c, string access)
    {
        w.Line($"/// <summary>");
        w.Line($"/// Serves the generated MessagePack formatters of the message types of <see cref=\"{c.InterfaceReference}\"/>, for");
        w.Line($"/// code that serializes them with <c>MessagePackSerializer</c>. The generated senders, receivers and RPC types do not");
        w.Line($"/// need it: they call the same code directly, without <c>MessagePackSerializerOptions</c>.");
        w.Line($"/// </summary>");
        w.Open($"{access} sealed class {c.BaseName}Resolver : global::MessagePack.IFormatterResolver");
        w.Line($"/// <summary>The resolver.</summary>");
        w.Line($"public static readonly {c.BaseName}Resolver Instance = new {c.BaseName}Resolver();");
        w.Line();
        w.Line($"/// <summary>Options that use the generated formatters first, then MessagePack's standard resolver.</summary>");
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
            w.Line($"return new {type.HelperName}Formatter();");
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
            var nullable = type.IsValueType ? type.FullName : type.FullName + "?";
            w.Line();
            w.Open($"private sealed class {type.HelperName}Formatter : {Formatter}<{nullable}>");
            w.Line($"public void Serialize({Writer}, {nullable} value, {Names.Options} options) =>");
            w.Line($"    {type.Codec.WriteOf("value")};");
            w.Line();
            w.Line($"public {nullable} Deserialize({Reader}, {Names.Options} options) =>");
            w.Line($"    {type.Codec.Read};");
            w.Close();
        }

        w.Close();
        w.Line();
    }

    private static void EmitValues(SourceWriter w, ContractModel c)
    {
        w.Line($"/// <summary>");
        w.Line($"/// Writes and reads the values the messages of <see cref=\"{c.InterfaceReference}\"/> carry, in MessagePack's own layout:");
        w.Line($"/// int-keyed objects as arrays, collections as arrays and maps, enums as their numbers.");
        w.Line($"/// </summary>");
        w.Open($"internal static class {c.BaseName}Values");
        // Inside the class its own pairs need no qualifier, which the shared value code carries for use elsewhere.
        var own = new System.Text.RegularExpressions.Regex($@"(?<![\w.]){c.BaseName}Values\.");
        string Unqualified(string code) => own.Replace(code, "");
        foreach (var type in c.MessageTypes.Where(t => t.EnumUnderlyingType is null))
        {
            EmitObjectPair(w, type, Unqualified);
        }

        foreach (var helper in c.Helpers)
        {
            EmitHelperPair(w, helper, Unqualified);
        }

        w.TrimBlankLine();
        w.Close();
        w.Line();
    }

    private static void EmitObjectPair(SourceWriter w, MessageTypeModel type, System.Func<string, string> local)
    {
        var nullable = type.IsValueType ? type.FullName : type.FullName + "?";
        var length = type.Members.Count == 0 ? 0 : type.Members.Max(m => m.Key) + 1;
        w.Line($"/// <summary>Writes a <see cref=\"{type.FullName}\"/> as an array indexed by its keys.</summary>");
        w.Open($"public static void Write{type.HelperName}({Writer}, {nullable} value)");
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
            w.Line(member is null ? "writer.WriteNil();" : local(member.Codec.WriteOf("value." + Names.Escape(member.Name))) + ";");
        }

        w.Close();
        w.Line();
        w.Line($"/// <summary>");
        w.Line($"/// Reads a <see cref=\"{type.FullName}\"/>: keys it does not know are skipped, and a key it lacks leaves the");
        w.Line($"/// member's default, except for a non-nullable reference passed to the constructor, which makes the message malformed.");
        w.Line($"/// </summary>");
        w.Open($"public static {nullable} Read{type.HelperName}({Reader})");
        if (!type.IsValueType)
        {
            w.Open("if (reader.TryReadNil())");
            w.Line("return null;");
            w.Close();
            w.Line();
        }

        w.Line($"{RuntimeNames.TypedMessages}.EnterNested(ref reader);");
        var locals = Locals(type);
        foreach (var member in type.Members)
        {
            w.Line($"{member.LocalType} {locals[member.Name]} = {(member.LocalType.EndsWith("?", System.StringComparison.Ordinal) ? "null" : "default")};");
        }

        w.Line("var count = reader.ReadArrayHeader();");
        w.Open("for (var i = 0; i < count; i++)");
        w.Open("switch (i)");
        foreach (var member in type.Members)
        {
            w.Line($"case {member.Key}:");
            w.Line($"    {locals[member.Name]} = {local(member.Codec.Read)};");
            w.Line("    break;");
        }

        w.Line("default:");
        w.Line("    reader.Skip();");
        w.Line("    break;");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"{RuntimeNames.TypedMessages}.LeaveNested(ref reader);");
        var arguments = type.ConstructorMembers.Select(name => Value(type.Members.First(m => m.Name == name.Value), locals)).ToArray();
        var settable = type.Members.Where(m => m.Settable && !type.ConstructorMembers.Any(n => n.Value == m.Name)).ToArray();
        if (settable.Length == 0)
        {
            w.List($"return new {type.FullName}(", arguments, ");");
        }
        else
        {
            // A member set after construction is set only when the message has its key, so one from a peer built
            // before the member existed leaves the type's own default (its initializer), as MessagePack does.
            w.List($"var {locals[ResultLocal]} = new {type.FullName}(", arguments, ");");
            foreach (var member in settable)
            {
                w.Open($"if (count > {member.Key})");
                w.Line($"{locals[ResultLocal]}.{Names.Escape(member.Name)} = {Value(member, locals)};");
                w.Close();
                w.Line();
            }

            w.Line($"return {locals[ResultLocal]};");
        }

        w.Close();
        w.Line();
    }

    /// <summary>The key, in <see cref="Locals"/>, of the local a read object is built in; no member can have this name.</summary>
    private const string ResultLocal = " result";

    private static void EmitHelperPair(SourceWriter w, HelperModel helper, System.Func<string, string> local)
    {
        var (shape, construct) = helper.Kind switch
        {
            HelperKind.Array => ("an array", $"new {ArrayOf(helper.ElementType, "count")}"),
            HelperKind.List => ("a list", $"new global::System.Collections.Generic.List<{helper.ElementType}>(count)"),
            HelperKind.Dictionary => ("a dictionary", $"new global::System.Collections.Generic.Dictionary<{helper.ElementType}, {helper.ValueType}>(count)"),
            _ => ("a nullable value", ""),
        };
        w.Line($"/// <summary>Writes {shape} of type <c>{Shown(helper)}</c>.</summary>");
        w.Open($"public static void Write{helper.Name}({Writer}, {helper.Type} value)");
        w.Open("if (value is null)");
        w.Line("writer.WriteNil();");
        w.Line("return;");
        w.Close();
        w.Line();
        switch (helper.Kind)
        {
            case HelperKind.Nullable:
                w.Line(local(helper.Element.WriteOf("value.Value")) + ";");
                break;
            case HelperKind.Dictionary:
                w.Line("writer.WriteMapHeader(value.Count);");
                w.Open("foreach (var entry in value)");
                w.Line(local(helper.Element.WriteOf("entry.Key")) + ";");
                w.Line(local(helper.Value!.WriteOf("entry.Value")) + ";");
                w.Close();
                break;
            default:
                w.Line($"writer.WriteArrayHeader(value.{(helper.Kind == HelperKind.Array ? "Length" : "Count")});");
                w.Open("foreach (var item in value)");
                w.Line(local(helper.Element.WriteOf("item")) + ";");
                w.Close();
                break;
        }

        w.Close();
        w.Line();
        w.Line($"/// <summary>Reads {shape} of type <c>{Shown(helper)}</c>.</summary>");
        w.Open($"public static {helper.Type} Read{helper.Name}({Reader})");
        w.Open("if (reader.TryReadNil())");
        w.Line("return null;");
        w.Close();
        w.Line();
        if (helper.Kind == HelperKind.Nullable)
        {
            w.Checked($"return {local(helper.Element.Read)};");
            w.Close();
            w.Line();
            return;
        }

        w.Line($"{RuntimeNames.TypedMessages}.EnterNested(ref reader);");
        w.Line($"var count = reader.Read{(helper.Kind == HelperKind.Dictionary ? "Map" : "Array")}Header();");
        w.Line($"var result = {construct};");
        w.Open("for (var i = 0; i < count; i++)");
        switch (helper.Kind)
        {
            case HelperKind.Array:
                w.Checked($"result[i] = {local(helper.Element.Read)};");
                break;
            case HelperKind.List:
                w.Checked($"result.Add({local(helper.Element.Read)});");
                break;
            default:
                w.Checked($"var key = {local(helper.Element.Read)};");
                w.Checked($"result[key] = {local(helper.Value!.Read)};");
                break;
        }

        w.Close();
        w.Line();
        w.Line($"{RuntimeNames.TypedMessages}.LeaveNested(ref reader);");
        w.Line("return result;");
        w.Close();
        w.Line();
    }

    /// <summary>
    /// <c>new T[count]</c>, where the element type may itself be an array: C# puts the count in the first brackets,
    /// before the element's own (<c>new int[count][]</c>), whose nullability does not matter in a creation.
    /// </summary>
    private static string ArrayOf(string elementType, string count)
    {
        var depth = 0;
        for (var i = 0; i < elementType.Length; i++)
        {
            depth += elementType[i] switch { '<' or '(' => 1, '>' or ')' => -1, _ => 0 };
            if (depth == 0 && elementType[i] == '[')
            {
                return $"{elementType.Substring(0, i)}[{count}]{elementType.Substring(i).Replace("?", "")}";
            }
        }

        return $"{elementType.TrimEnd('?')}[{count}]";
    }

    /// <summary>A helper's type as documentation shows it: no <c>global::</c>, brackets escaped for XML, and no <c>?</c> for a reference.</summary>
    private static string Shown(HelperModel helper)
    {
        var type = helper.Kind == HelperKind.Nullable ? helper.Type : helper.Type.TrimEnd('?');
        return type.Replace("global::", "").Replace("<", "&lt;").Replace(">", "&gt;");
    }

    /// <summary>A member's value when the object is built: a non-nullable reference must have been read.</summary>
    private static string Value(MemberModel member, System.Collections.Generic.Dictionary<string, string> locals) => member.Required is { } what
        ? $"{locals[member.Name]} ?? throw {RuntimeNames.TypedMessages}.MissingValue(\"{what}\")"
        : locals[member.Name];

    /// <summary>The local each member is read into: its name in camel case, clear of the reader's own locals and of each other.</summary>
    private static System.Collections.Generic.Dictionary<string, string> Locals(MessageTypeModel type)
    {
        var taken = new System.Collections.Generic.HashSet<string> { "reader", "count", "i" };
        var locals = type.Members.ToDictionary(m => m.Name, m => Names.Escape(Names.Unique(Camel(m.Name), taken)));
        locals[ResultLocal] = Names.Unique("result", taken);
        return locals;
    }

    /// <summary><c>Name</c> → <c>name</c>, <c>ID</c> → <c>id</c>, <c>URLPath</c> → <c>urlPath</c>.</summary>
    private static string Camel(string name)
    {
        var upper = 0;
        while (upper < name.Length && char.IsUpper(name[upper]))
        {
            upper++;
        }

        // A leading acronym is lowered except its last letter when a word follows it.
        var lowered = upper == name.Length || upper <= 1 ? upper : upper - 1;
        return name.Substring(0, lowered).ToLowerInvariant() + name.Substring(lowered);
    }
}
