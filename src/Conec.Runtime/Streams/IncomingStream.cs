namespace Conec;

/// <summary>
/// A stream the peer opened; deconstructs as <c>var (peer, streamId, send, receive) = …</c>.
/// Only <c>(Peer, StreamId)</c> identifies it: two peers may use the same id.
/// </summary>
/// <param name="Peer">The authenticated id of the client that opened it, or <see langword="null"/> for the coordinator.</param>
/// <param name="StreamId">The id the opener chose.</param>
/// <param name="Send">Messages to the peer.</param>
/// <param name="Receive">Messages from the peer.</param>
public readonly record struct IncomingStream(string? Peer, ulong StreamId, OutStream Send, InStream Receive)
{
    /// <summary>How the stream arrived.</summary>
    public StreamKind Kind { get; init; }

    /// <summary>
    /// The opener's trace context (W3C), when the opener was tracing: start an activity with it as parent to continue
    /// the opener's trace; default otherwise.
    /// </summary>
    public System.Diagnostics.ActivityContext TraceContext { get; init; }
}
