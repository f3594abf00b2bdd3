namespace Conec.Protocol;

/// <summary>The first element of every control message (a MessagePack array). Values are wire constants.</summary>
internal enum ControlTag
{
    /// <summary><c>[0, id, version, listenPort]</c>: the connector's first message on the control stream (listenPort 0: no direct channels).</summary>
    Hello = 0,

    /// <summary><c>[1]</c>: the acceptor registered the connector; the channel is up.</summary>
    HelloAccepted = 1,

    /// <summary><c>[2, error, text]</c>: the hello is refused (error is a <see cref="ConecError"/> value); the acceptor then closes.</summary>
    HelloRefused = 2,
}
