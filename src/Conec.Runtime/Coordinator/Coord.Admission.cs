using Conec.Certificates;
using Conec.Coordinator;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec;

/// <summary>The hello: who may join, and how a refusal reaches the refused client before its connection closes.</summary>
public sealed partial class Coord
{
    /// <summary>
    /// How long a refused client is given to read the refusal and hang up itself before the coordinator closes the
    /// connection (closing at once could discard the refusal text still in flight on QUIC).
    /// </summary>
    private static readonly TimeSpan RefusalLinger = TimeSpan.FromSeconds(1);

    /// <summary>Serves one accepted connection; its place in the budget is given back once it is disposed, descriptor and all.</summary>
    private async Task ServeConnectionAsync(TransportConnection connection)
    {
        try
        {
            await using (connection)
            {
                var session = await AdmitAsync(connection);
                if (session is not null)
                {
                    await session.RunAsync(_shutdown.Token);
                }
            }
        }
        finally
        {
            _budget.Release();
        }
    }

    /// <summary>Runs the hello; returns the registered session, or <see langword="null"/> after refusing (and logging why).</summary>
    private async Task<CoordSession?> AdmitAsync(TransportConnection connection)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        deadline.CancelAfter(_config.HelloTimeout);
        TransportStream control;
        ControlMessage hello;
        try
        {
            control = await connection.AcceptStreamAsync(deadline.Token);
            var bytes = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "The control stream ended before the hello.");
            hello = ControlMessage.Decode(new System.Buffers.ReadOnlySequence<byte>(bytes));
        }
        catch (OperationCanceledException) when (!_shutdown.IsCancellationRequested)
        {
            CoordLog.HelloTimedOut(_logger, connection.RemoteEndPoint, _config.HelloTimeout);
            _metrics.HandshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", "hello_timeout"));
            await connection.CloseAsync(ProtocolCodes.CloseHelloTimeout, "no hello within the hello timeout", CancellationToken.None);
            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ConecException e) when (e.Error is ConecError.ProtocolViolation or ConecError.MessageTooLarge or ConecError.TruncatedMessage)
        {
            CoordLog.HelloMalformed(_logger, connection.RemoteEndPoint, e.Message);
            _metrics.HandshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", "malformed_hello"));
            await connection.CloseAsync(ProtocolCodes.CloseProtocolViolation, e.Message, CancellationToken.None);
            return null;
        }
        catch (ConecException e)
        {
            CoordLog.HelloConnectionFailed(_logger, connection.RemoteEndPoint, e.Message);
            return null;
        }

        var refusal = Validate(hello, connection);
        if (refusal is null)
        {
            var session = new CoordSession(this, connection, hello.Text!, control) { ListenPort = hello.ListenPort, SharesPort = hello.SharesPort, LocalAddresses = hello.LocalAddresses };
            if (_clients.TryAdd(session.Id, session) && (refusal = await ClaimInClusterAsync(session, deadline.Token)) is null)
            {
                // Registered (and counted, as Unregister uncounts it) before the acceptance is sent, so ClientCount and
                // the clients gauge count the client once its connect returns.
                _metrics.Clients.Add(1);
                if (await session.AcceptHelloAsync(deadline.Token))
                {
                    CoordLog.ClientJoined(_logger, session.Id, connection.RemoteEndPoint, connection.Mode, _clients.Count);
                    return session;
                }

                Unregister(session);
                return null;
            }

            refusal ??= (ConecError.IdInUse, $"The id '{session.Id}' is in use by another connected client.");
        }

        await RefuseAsync(connection, control, refusal.Value.Error, refusal.Value.Reason);
        return null;
    }

    private static (ConecError Error, string Reason)? Validate(ControlMessage hello, TransportConnection connection)
    {
        if (hello.Tag != ControlTag.Hello)
        {
            return (ConecError.ProtocolViolation, $"The first control message must be a hello, not {hello.Tag}.");
        }

        if (hello.Number != ProtocolConstants.Version)
        {
            return (ConecError.VersionMismatch,
                $"The client speaks Conec protocol version {hello.Number}; this coordinator speaks version {ProtocolConstants.Version}.");
        }

        var id = hello.Text!;
        if (!DnsName.IsValid(id))
        {
            return (ConecError.IdentityRejected, $"The id '{id}' is not a DNS name (letters, digits, '-' and '_' in dot-separated labels).");
        }

        // Identity is the certificate's DNS name; wildcards and the common name do not count (conec-reference §4).
        if (!connection.RemoteCertificate.MatchesHostname(id, allowWildcards: false, allowCommonName: false))
        {
            return (ConecError.IdentityRejected,
                $"The client certificate ('{connection.RemoteCertificate.Subject}') is not valid for the id '{id}'.");
        }

        return null;
    }

    private async Task RefuseAsync(TransportConnection connection, TransportStream control, ConecError error, string reason)
    {
        CoordLog.HelloRefused(_logger, connection.RemoteEndPoint, error, reason);
        _metrics.HandshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", error.ToString()));
        try
        {
            await control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloRefused(error, reason).Encode()), completeWrites: true, _shutdown.Token);
            await Task.WhenAny(connection.Closed, Task.Delay(RefusalLinger, _shutdown.Token));
        }
        catch (ConecException e)
        {
            CoordLog.HelloConnectionFailed(_logger, connection.RemoteEndPoint, e.Message);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the connection closes below either way.
        }

        await connection.CloseAsync(ProtocolCodes.CloseHelloRefused, reason, CancellationToken.None);
    }
}
