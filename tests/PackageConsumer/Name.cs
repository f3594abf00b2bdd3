using MessagePack;

namespace PackageConsumer;

/// <summary>Who is greeted.</summary>
[MessagePackObject]
public sealed record Name([property: Key(0)] string Text);
