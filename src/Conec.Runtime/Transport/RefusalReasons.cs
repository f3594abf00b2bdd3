namespace Conec.Transport;

/// <summary>The <c>reason</c> tags of <c>conec.coordinator.refusals</c>: why a connection was turned away before its hello.</summary>
internal static class RefusalReasons
{
    /// <summary>Every place was held (<see cref="CoordConfig.MaxClients"/>); the client was told why.</summary>
    public const string CoordinatorFull = "coordinator_full";

    /// <summary><see cref="CoordConfig.MaxPendingHandshakes"/> handshakes were already in progress; closed at once.</summary>
    public const string TooManyHandshakes = "too_many_handshakes";

    /// <summary>The process had no descriptor left; the connection was accepted on a spare one and closed at once.</summary>
    public const string OutOfDescriptors = "out_of_descriptors";

    /// <summary>The TLS or transport handshake failed, timed out, or the peer left during it.</summary>
    public const string HandshakeFailed = "handshake_failed";
}
