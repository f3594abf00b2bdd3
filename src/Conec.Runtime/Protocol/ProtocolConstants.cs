namespace Conec.Protocol;

/// <summary>Numbers both ends of a Conec connection must agree on (docs/protocol.md).</summary>
internal static class ProtocolConstants
{
    /// <summary>The protocol version sent in the hello; a mismatch refuses the connection with both numbers named.</summary>
    public const int Version = 1;

    /// <summary>conec's port: the coordinator listens here unless configured otherwise.</summary>
    public const int DefaultPort = 1719;

    /// <summary>
    /// Largest control message or stream header. Ids are DNS names (at most 253 characters), so the largest
    /// legitimate message is a few hundred bytes; 16 KiB leaves room for later fields and refuses junk early.
    /// </summary>
    public const int MaxControlMessageSize = 16 * 1024;
}
