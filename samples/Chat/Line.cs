using MessagePack;

namespace Conec.Samples.Chat;

/// <summary>One chat line.</summary>
/// <param name="Text">What was said.</param>
[MessagePackObject]
public sealed record Line([property: Key(0)] string Text);
