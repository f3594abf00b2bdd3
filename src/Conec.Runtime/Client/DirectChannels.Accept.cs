using System.Buffers;
using Conec.Certificates;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec;

/// <summary>The accepting side of direct channels, and the direct streams of every channel.</summary>
internal sealed partial class DirectChannels
{
    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var connection = await _listener!.AcceptConnectionAsync(_shutdown.Token);
                _tasks.Run(() => AdmitAsync(connection));
            }
        }
        catch (Exception e) when (_shutdown.IsCancellationRequested && e is ConecException or OperationCanceledException)
        {
            // The listener stopped: this client is being disposed.
        }
        catch (ConecException e)
        {
            // The listener broke (it ends on nothing else): peers' channels to this client now fail and relay instead.
            ClientLog.DirectListenerFailed(_logger, _id, e);
        }
    }

    /// <summary>
    /// A peer connected: it must say hello as the id its certificate names, the coordinator must have announced
    /// it with exactly that certificate, and no other channel with it may exist.
    /// </summary>
    private async Task AdmitAsync(TransportConnection connection)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        deadline.CancelAfter(_config.ConnectTimeout);
        TransportStream control;
        ControlMessage hello;
        try
        {
            control = await connection.AcceptStreamAsync(deadline.Token);
            var bytes = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, deadline.Token)
                ?? throw new ConecException(ConecError.ProtocolViolation, "the control stream ended before the hello");
            hello = ControlMessage.Decode(new ReadOnlySequence<byte>(bytes));
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            ClientLog.ChannelRefused(_logger, _id, connection.RemoteEndPoint.ToString(), e is OperationCanceledException ? "no hello in time" : e.Message);
            await connection.DisposeAsync();
            return;
        }

        var channel = new DirectChannel(hello.Text ?? "");
        var refusal = Check(hello, connection, channel);
        if (refusal is null)
        {
            StopPunching(channel.Peer);
        }

        if (refusal is { } r)
        {
            ClientLog.ChannelRefused(_logger, _id, hello.Text ?? connection.RemoteEndPoint.ToString(), r.Reason);
            try
            {
                await control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloRefused(r.Error, r.Reason).Encode()), completeWrites: true, deadline.Token);
                await Task.WhenAny(connection.Closed, Task.Delay(TimeSpan.FromSeconds(1), deadline.Token));
            }
            catch (Exception e) when (e is ConecException or OperationCanceledException)
            {
                // The peer left before reading the refusal; it is refused either way.
            }

            await connection.DisposeAsync();
            return;
        }

        try
        {
            await control.WriteAsync(SingleFrame.Encode(ControlMessage.HelloAccepted().Encode()), false, deadline.Token);
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            Forget(channel);
            channel.Failed(e);
            await connection.DisposeAsync();
            return;
        }

        channel.Connected(connection, control);
        await ServeAsync(channel);
    }

    private (ConecError Error, string Reason)? Check(ControlMessage hello, TransportConnection connection, DirectChannel channel)
    {
        if (hello.Tag != ControlTag.Hello || hello.Number != ProtocolConstants.Version)
        {
            return (ConecError.VersionMismatch, $"Expected a protocol version {ProtocolConstants.Version} hello.");
        }

        var peer = hello.Text!;
        if (!DnsName.IsValid(peer) || !connection.RemoteCertificate.MatchesHostname(peer, allowWildcards: false, allowCommonName: false))
        {
            return (ConecError.IdentityRejected, $"The certificate is not valid for the id '{peer}'.");
        }

        lock (_lock)
        {
            if (!_expected.TryGetValue(peer, out var vouched) || !connection.RemoteCertificate.RawData.AsSpan().SequenceEqual(vouched))
            {
                return (ConecError.IdentityRejected, $"The coordinator did not vouch for '{peer}' with this certificate.");
            }

            if (_channels.TryGetValue(peer, out var existing) && existing.IsAlive)
            {
                return (ConecError.ChannelExists, $"A direct channel between '{peer}' and '{_id}' already exists.");
            }

            _expected.Remove(peer);
            _channels[peer] = channel;
            return null;
        }
    }

    /// <summary>Receives the peer's direct streams until the channel's connection ends, then forgets the channel.</summary>
    private async Task ServeAsync(DirectChannel channel)
    {
        var connection = channel.Connection;
        _tasks.Run(() => WatchGoodbyeAsync(channel));
        try
        {
            while (true)
            {
                var stream = await connection.AcceptStreamAsync(_shutdown.Token);
                _tasks.Run(() => ReceiveDirectStreamAsync(channel, stream));
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The channel closed (by either side) or the client is being disposed.
        }
        finally
        {
            Forget(channel);
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// The peer sends nothing on the control stream after the hello; its end is the peer closing the channel. The
    /// channel is forgotten before the goodbye is answered, so the peer may reopen the moment its close returns.
    /// </summary>
    private async Task WatchGoodbyeAsync(DirectChannel channel)
    {
        var control = channel.Control!;
        try
        {
            var unexpected = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, _shutdown.Token);
            if (unexpected is not null)
            {
                ClientLog.ChannelRefused(_logger, _id, channel.Peer, "it sent a control message on the direct channel; closing the channel");
                await channel.Connection.CloseAsync(ProtocolCodes.CloseProtocolViolation, "unexpected control message", CancellationToken.None);
                return;
            }

            Forget(channel);
            control.CompleteWrites();
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The connection ended first; ServeAsync forgets the channel.
        }
        finally
        {
            channel.OnPeerGoodbye();
        }
    }

    private async Task ReceiveDirectStreamAsync(DirectChannel channel, TransportStream stream)
    {
        IncomingStream incoming;
        try
        {
            var header = await StreamHeader.ReadAsync(stream, _config.ConnectTimeout, _shutdown.Token);
            if (header.Kind != StreamHeaderKind.Direct)
            {
                throw new ConecException(ConecError.ProtocolViolation, $"a {header.Kind} stream is not allowed on a direct channel");
            }

            // The id in the header must be the channel's authenticated peer: a forged sender is refused.
            if (!string.Equals(header.Name, channel.Peer, StringComparison.OrdinalIgnoreCase))
            {
                throw new ConecException(ConecError.IdentityRejected, $"'{channel.Peer}' opened a stream claiming to be '{header.Name}'");
            }

            incoming = new IncomingStream(channel.Peer, header.StreamId, new OutStream(stream, _config.MaxMessageSize), new InStream(stream, _config.MaxMessageSize))
            {
                Kind = StreamKind.Direct,
                TraceContext = Diagnostics.ConecTelemetry.ParseTraceParent(header.TraceParent),
            };
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            ClientLog.StreamRefused(_logger, _id, e.Message);
            stream.AbortWrite(ProtocolCodes.StreamHeaderRefused);
            stream.AbortRead(ProtocolCodes.StreamHeaderRefused);
            await stream.DisposeAsync();
            return;
        }

        if (!_deliver(incoming))
        {
            stream.AbortWrite(ProtocolCodes.StreamPeerLost);
            await stream.DisposeAsync();
        }
    }
}
