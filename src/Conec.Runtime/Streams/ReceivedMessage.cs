namespace Conec;

/// <summary>One message from an <see cref="IMessageSource"/>, and how many messages were lost just before it.</summary>
/// <param name="Payload">The message.</param>
/// <param name="LostBefore">Messages dropped between the previous message and this one (by a <see cref="NonblockingInStream"/> or the coordinator's <see cref="SlowReceiverPolicy.DropOldest"/>).</param>
public readonly record struct ReceivedMessage(ReadOnlyMemory<byte> Payload, long LostBefore);
