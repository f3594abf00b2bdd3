namespace Conec.Generators.Model;

/// <summary>
/// A message type the generator writes a MessagePack formatter for: an int-keyed [MessagePackObject] (read and written
/// by the <c>Write…</c>/<c>Read…</c> pair named <see cref="HelperName"/>), or an enum. <see cref="Codec"/> is how a
/// value of it is written and read.
/// </summary>
internal sealed record MessageTypeModel(
    string FullName,
    string SafeName,
    string HelperName,
    CodecModel Codec,
    bool IsValueType,
    string? EnumUnderlyingType,
    EquatableArray<MemberModel> Members,
    EquatableArray<StringValue> ConstructorMembers);

/// <summary>One [Key(n)] member: its key, name, type, how it is read and written, and whether it can be assigned after construction.</summary>
internal sealed record MemberModel(int Key, string Name, string Type, CodecModel Codec, bool Settable);
