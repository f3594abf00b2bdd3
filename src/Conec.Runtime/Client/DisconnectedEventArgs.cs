namespace Conec;

/// <summary>The coordinator connection was lost; the client is reconnecting.</summary>
/// <param name="reason">Why the connection ended.</param>
public sealed class DisconnectedEventArgs(ConecException reason) : EventArgs
{
    /// <summary>Why the connection ended.</summary>
    public ConecException Reason { get; } = reason;
}
