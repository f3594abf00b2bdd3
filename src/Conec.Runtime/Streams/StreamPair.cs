namespace Conec;

/// <summary>The two halves of a stream this side opened; deconstructs as <c>var (send, receive) = …</c>.</summary>
/// <param name="Send">Messages to the peer.</param>
/// <param name="Receive">Messages from the peer.</param>
public readonly record struct StreamPair(OutStream Send, InStream Receive)
{
    /// <summary>
    /// How the stream travels: <see cref="StreamKind.Direct"/> or <see cref="StreamKind.Proxied"/> (what
    /// <c>NewStreamAsync</c> chose), <see cref="StreamKind.Coordinator"/>, or <see cref="StreamKind.Broadcast"/>.
    /// </summary>
    public StreamKind Kind { get; init; }
}
