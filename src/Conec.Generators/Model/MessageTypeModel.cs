namespace Conec.Generators.Model;

/// <summary>
/// A message type the generator writes a MessagePack formatter for: an int-keyed [MessagePackObject] (read and written
/// by the <c>Write…</c>/<c>Read…</c> pair named <see cref="HelperName"/>), or an enum. <see cref="HelperName"/>, unique
/// in the contract, also names its formatter. <see cref="Codec"/> is how a value of it is written and read.
/// </summary>
internal sealed record MessageTypeModel(
    string FullName,
    string HelperName,
    CodecModel Codec,
    bool IsValueType,
    string? EnumUnderlyingType,
    EquatableArray<MemberModel> Members,
    EquatableArray<StringValue> ConstructorMembers);

/// <summary>
/// One [Key(n)] member: its key, its name, the type of the local it is read into, how it is read (into that local) and
/// written, what names it when a non-nullable reference lacks a value (else null), and whether it can be assigned
/// after construction.
/// </summary>
internal sealed record MemberModel(int Key, string Name, string LocalType, CodecModel Codec, string? Required, bool Settable);
