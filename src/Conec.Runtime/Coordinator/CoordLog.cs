using System.Net;
using Microsoft.Extensions.Logging;

namespace Conec.Coordinator;

/// <summary>The coordinator's log messages; event ids 2001–2099 are stable.</summary>
internal static partial class CoordLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Coordinator listening on {EndPoint} ({Transport})")]
    public static partial void Listening(ILogger logger, IPEndPoint endPoint, TransportMode transport);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Coordinator stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Coordinator can no longer accept connections")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Client {ClientId} joined from {EndPoint} over {Transport} ({Count} connected)")]
    public static partial void ClientJoined(ILogger logger, string clientId, IPEndPoint endPoint, TransportMode transport, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Client {ClientId} at {EndPoint} left ({Count} connected)")]
    public static partial void ClientLeft(ILogger logger, string clientId, IPEndPoint endPoint, int count);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Refused the hello from {EndPoint} ({Error}): {Reason}")]
    public static partial void HelloRefused(ILogger logger, IPEndPoint endPoint, ConecError error, string reason);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Closed the connection from {EndPoint}: no hello within {Timeout}")]
    public static partial void HelloTimedOut(ILogger logger, IPEndPoint endPoint, TimeSpan timeout);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Closed the connection from {EndPoint}: malformed hello ({Reason})")]
    public static partial void HelloMalformed(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Debug, Message = "The connection from {EndPoint} ended during the hello: {Reason}")]
    public static partial void HelloConnectionFailed(ILogger logger, IPEndPoint endPoint, string reason);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Closed client {ClientId} for breaking the protocol: {Reason}")]
    public static partial void ClientViolation(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Dropped a stream from client {ClientId}: {Reason}")]
    public static partial void StreamRefused(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Information, Message = "Admitting at most {MaxClients} clients and {MaxPendingHandshakes} handshakes at once (from {Source})")]
    public static partial void Capacity(ILogger logger, int maxClients, int maxPendingHandshakes, string source);

    [LoggerMessage(EventId = 2099, Level = LogLevel.Error, Message = "Unexpected failure in a coordinator background task")]
    public static partial void UnexpectedFailure(ILogger logger, Exception exception);
}
