namespace Conec;

/// <summary>A deserialized broadcast message with the authenticated id of its sender.</summary>
/// <typeparam name="T">The message type.</typeparam>
/// <param name="Sender">The sender's id, stamped by the coordinator; <see cref="TaggedMessage.CoordinatorSender"/> for the coordinator itself.</param>
/// <param name="Value">The message.</param>
/// <param name="LostBefore">Messages dropped for this receiver just before this one.</param>
public readonly record struct TaggedValue<T>(string Sender, T Value, long LostBefore);
