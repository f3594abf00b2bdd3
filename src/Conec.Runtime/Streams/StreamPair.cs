namespace Conec;

/// <summary>The two halves of a stream this side opened; deconstructs as <c>var (send, receive) = …</c>.</summary>
/// <param name="Send">Messages to the peer.</param>
/// <param name="Receive">Messages from the peer.</param>
public readonly record struct StreamPair(OutStream Send, InStream Receive);
