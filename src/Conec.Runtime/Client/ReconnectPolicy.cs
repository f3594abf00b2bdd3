namespace Conec;

/// <summary>Whether and how a client reconnects after losing its coordinator (off by default, as in conec).</summary>
/// <remarks>
/// Only failures a later attempt can fix are retried: the coordinator unreachable, closing, timing out, full
/// (<see cref="ConecError.CoordinatorFull"/>: a place frees when a client leaves) or not yet aware that the old
/// connection died (<see cref="ConecError.IdInUse"/>). A refusal that would repeat on every
/// attempt (<see cref="ConecError.HandshakeFailed"/>: trust or certificate; <see cref="ConecError.VersionMismatch"/>;
/// <see cref="ConecError.IdentityRejected"/>; an invalid certificate or configuration) ends the client: its
/// <c>Completion</c> faults with that refusal.
/// </remarks>
public sealed class ReconnectPolicy
{
    /// <summary>Reconnect automatically.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// The wait before the first attempt; each failed attempt doubles it, up to <see cref="MaxDelay"/>. Each wait is
    /// jittered by up to half either way, so clients that lost one coordinator together do not return together.
    /// </summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts. 10 s keeps a restarted coordinator from a thundering herd while staying prompt.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether a failed connect would fail the same way on every later attempt.</summary>
    internal static bool IsPermanent(ConecError error) => error is ConecError.HandshakeFailed or ConecError.VersionMismatch
        or ConecError.IdentityRejected or ConecError.InvalidCertificate or ConecError.InvalidConfiguration
        or ConecError.TransportUnsupported or ConecError.ProtocolViolation;
}
