namespace Conec.Generators.Model;

/// <summary>
/// How one value is written and read, as C# expressions over the locals <c>writer</c> and <c>reader</c>;
/// <c>{0}</c> in <see cref="Write"/> stands for the value. Plain strings, so the model stays equatable.
/// </summary>
internal sealed record CodecModel(string Write, string Read)
{
    public string WriteOf(string value) => Write.Replace("{0}", value);
}

/// <summary>
/// A generated method pair that reads and writes one shape the expressions cannot inline: a nullable value type,
/// an array, a list or a dictionary. <see cref="Type"/> is the type the pair takes and returns.
/// </summary>
internal sealed record HelperModel(string Name, HelperKind Kind, string Type, string ElementType, CodecModel Element, string? ValueType, CodecModel? Value);

/// <summary>The shapes a <see cref="HelperModel"/> can have.</summary>
internal enum HelperKind
{
    /// <summary><c>T?</c> for a value type <c>T</c>: nil or the value.</summary>
    Nullable,

    /// <summary><c>T[]</c>: a MessagePack array.</summary>
    Array,

    /// <summary><c>List&lt;T&gt;</c> and the list and collection interfaces: a MessagePack array, read into a <c>List&lt;T&gt;</c>.</summary>
    List,

    /// <summary><c>Dictionary&lt;K, V&gt;</c> and its interfaces: a MessagePack map, read into a <c>Dictionary&lt;K, V&gt;</c>.</summary>
    Dictionary,
}
