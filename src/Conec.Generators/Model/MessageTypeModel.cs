namespace Conec.Generators.Model;

/// <summary>A message type the generator writes a MessagePack formatter for: an int-keyed [MessagePackObject], or an enum.</summary>
internal sealed record MessageTypeModel(
    string FullName,
    string SafeName,
    bool IsValueType,
    string? EnumUnderlyingType,
    EquatableArray<MemberModel> Members,
    EquatableArray<StringValue> ConstructorMembers);

/// <summary>One [Key(n)] member: its key, name, type, and whether it can be assigned after construction.</summary>
internal sealed record MemberModel(int Key, string Name, string Type, bool Settable);
