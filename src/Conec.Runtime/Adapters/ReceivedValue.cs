namespace Conec;

/// <summary>A deserialized message and how many messages were lost just before it.</summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Value">The message.</param>
/// <param name="LostBefore">Messages dropped just before this one.</param>
public readonly record struct ReceivedValue<T>(T Value, long LostBefore);
