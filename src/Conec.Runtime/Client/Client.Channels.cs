using System.Buffers;
using Conec.Protocol;
using Conec.Streams;

namespace Conec;

/// <summary>Direct channels: brokered by the coordinator, then client to client with each side's certificate pinned.</summary>
public sealed partial class Client
{
    /// <summary>
    /// Asks the coordinator to broker a direct channel to <paramref name="peer"/> and connects to it. Returns once
    /// the channel is up; either side may then open direct streams on it.
    /// </summary>
    /// <exception cref="ConecException">
    /// <see cref="ConecError.ChannelExists"/> (a channel to that peer exists or is being set up, from either side),
    /// <see cref="ConecError.UnknownPeer"/>, <see cref="ConecError.ChannelRefused"/> (the peer does not listen, or is this client),
    /// <see cref="ConecError.HandshakeFailed"/> (the peer's certificate is not the one the coordinator vouched for),
    /// or <see cref="ConecError.PeerUnreachable"/> (both sides are behind NATs and hole punching found no path within
    /// its window of a few seconds, as behind a NAT that picks a new port per destination).
    /// </exception>
    /// <remarks>
    /// Over TCP, when both clients' coordinator connections leave from their listeners' ports (the default), the
    /// coordinator tells each the other's addresses as it observes them and as their hellos gave them, and both
    /// open towards each other at once, so each NAT sees outgoing traffic before the peer's arrives.
    /// </remarks>
    public Task NewChannelAsync(string peer, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        if (string.Equals(peer, Id, StringComparison.OrdinalIgnoreCase))
        {
            throw new ConecException(ConecError.ChannelRefused, "A client cannot open a direct channel to itself.");
        }

        return _channels.OpenAsync(peer, BrokerAsync, cancellationToken);

        async ValueTask<ChannelRoute> BrokerAsync(CancellationToken ct)
        {
            var (stream, reply) = await OpenWithReplyAsync(new StreamHeader(StreamHeaderKind.ChannelRequest, peer, _streamIds.Next()), ct);
            await stream.DisposeAsync();
            return StreamReply.DecodeChannel(new ReadOnlySequence<byte>(reply));
        }
    }

    /// <summary>Closes the direct channel to <paramref name="peer"/>: its streams fail on both sides, and both sides forget it at once.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.NoChannel"/> when there is none.</exception>
    public Task CloseChannelAsync(string peer, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        return _channels.CloseAsync(peer, cancellationToken);
    }

    /// <summary>Opens a stream on the direct channel to <paramref name="peer"/> (waiting if it is still being set up).</summary>
    /// <exception cref="ConecException"><see cref="ConecError.NoChannel"/> when there is no channel to that peer.</exception>
    public async ValueTask<StreamPair> NewDirectStreamAsync(string peer, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        var channel = await _channels.FindAsync(peer, cancellationToken)
            ?? throw new ConecException(ConecError.NoChannel, $"There is no direct channel between '{Id}' and '{peer}'; open one with NewChannelAsync.");
        var stream = await channel.Connection.OpenStreamAsync(cancellationToken);
        try
        {
            var header = new StreamHeader(StreamHeaderKind.Direct, Id, _streamIds.Next()) { TraceParent = Diagnostics.ConecTelemetry.CurrentTraceParent() };
            await stream.WriteAsync(SingleFrame.Encode(header.Encode()), false, cancellationToken);
            _metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", "direct"));
            return new StreamPair(new OutStream(stream, _config.MaxMessageSize), new InStream(stream, _config.MaxMessageSize)) { Kind = StreamKind.Direct };
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a stream to <paramref name="peer"/>: direct when a channel exists or can be made within
    /// <see cref="ClientConfig.DirectAttemptTimeout"/>, else relayed by the coordinator (for example when the peer
    /// does not accept direct channels). <see cref="StreamPair.Kind"/> says which it is.
    /// </summary>
    public async ValueTask<StreamPair> NewStreamAsync(string peer, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(peer);
        if (await _channels.FindAsync(peer, cancellationToken) is null)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(_config.DirectAttemptTimeout);
            try
            {
                await NewChannelAsync(peer, attempt.Token);
            }
            catch (ConecException e) when (e.Error != ConecError.ChannelExists)
            {
                ClientLog.FellBackToProxied(_logger, Id, peer, e.Message);
                return await NewProxiedStreamAsync(peer, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                ClientLog.FellBackToProxied(_logger, Id, peer, "no direct channel within ClientConfig.DirectAttemptTimeout");
                return await NewProxiedStreamAsync(peer, cancellationToken);
            }
        }

        return await NewDirectStreamAsync(peer, cancellationToken);
    }
}
