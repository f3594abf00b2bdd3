namespace Conec;

/// <summary>A broadcast message with the authenticated id of the client that sent it.</summary>
/// <param name="Sender">
/// The sender's id, stamped by the coordinator (never taken from the sender); <see cref="CoordinatorSender"/> when
/// the coordinator itself sent it (<c>Coord.NewBroadcastAsync</c>).
/// </param>
/// <param name="Payload">The message as sent.</param>
/// <param name="LostBefore">Messages dropped for this receiver just before this one.</param>
public readonly record struct TaggedMessage(string Sender, ReadOnlyMemory<byte> Payload, long LostBefore)
{
    /// <summary>
    /// The sender of the coordinator's own broadcast messages: the empty string, which no client can have as its id
    /// (ids are DNS names), just as an <see cref="IncomingStream"/> from the coordinator has no peer id.
    /// </summary>
    public const string CoordinatorSender = "";

    /// <summary>Whether the coordinator itself sent this message.</summary>
    public bool FromCoordinator => Sender.Length == 0;
}
