using System.Net;
using Microsoft.Extensions.Logging;

namespace Conec;

/// <summary>The client's log messages; event ids 3001–3099 are stable.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Client {ClientId} connected to the coordinator at {EndPoint} over {Transport}")]
    public static partial void Connected(ILogger logger, string clientId, IPEndPoint endPoint, TransportMode transport);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Client {ClientId} lost its coordinator connection: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Client {ClientId} closed its coordinator connection because the coordinator broke the protocol: {Reason}")]
    public static partial void CoordinatorViolation(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Client {ClientId} dropped an incoming stream: {Reason}")]
    public static partial void StreamRefused(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Client {ClientId} refused a direct channel from {Peer}: {Reason}")]
    public static partial void ChannelRefused(ILogger logger, string clientId, string peer, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "Client {ClientId} relays its stream to {Peer} through the coordinator: no direct channel ({Reason})")]
    public static partial void FellBackToProxied(ILogger logger, string clientId, string peer, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Client {ClientId} reconnected to the coordinator after {Attempts} attempt(s)")]
    public static partial void Reconnected(ILogger logger, string clientId, int attempts);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Client {ClientId} reconnection attempt {Attempt} failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, string clientId, int attempt, string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Error, Message = "Client {ClientId} no longer accepts direct channels: its listener stopped")]
    public static partial void DirectListenerFailed(ILogger logger, string clientId, Exception exception);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Client {ClientId} punched a direct channel to {Peer} at {EndPoint}")]
    public static partial void Punched(ILogger logger, string clientId, string peer, IPEndPoint endPoint);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "Client {ClientId}: a socket punched towards {Peer} did not carry the channel: {Reason}")]
    public static partial void PunchedSocketFailed(ILogger logger, string clientId, string peer, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Client {ClientId} connects to the coordinator from another port than its direct listener's, so peers cannot punch to it: {Reason}")]
    public static partial void PortNotShared(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 3099, Level = LogLevel.Error, Message = "Unexpected failure in a client background task")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception);
}
