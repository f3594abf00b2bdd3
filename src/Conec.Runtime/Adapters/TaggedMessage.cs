namespace Conec;

/// <summary>A broadcast message with the authenticated id of the client that sent it.</summary>
/// <param name="Sender">The sender's id, stamped by the coordinator (never taken from the sender).</param>
/// <param name="Payload">The message as sent.</param>
/// <param name="LostBefore">Messages dropped for this receiver just before this one.</param>
public readonly record struct TaggedMessage(string Sender, ReadOnlyMemory<byte> Payload, long LostBefore);
