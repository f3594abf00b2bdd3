using Conec.Transport;

namespace Conec;

/// <summary>Reconnection (beyond conec, whose clients never reconnect): same id, same certificate, broadcasts re-joined.</summary>
public sealed partial class Client
{
    /// <summary>
    /// After the coordinator connection is lost: wait, connect again with the same identity (backing off up to the
    /// policy's maximum), then re-join the broadcasts that were still joined and announce the new streams. Streams
    /// of the old connection have already failed with the connection's error.
    /// </summary>
    private async Task ReconnectAsync(ReconnectPolicy policy, CoordinatorLink lost)
    {
        await lost.Control.DisposeAsync();
        await lost.Connection.DisposeAsync();
        var delay = policy.InitialDelay;
        var attempt = 0;
        while (!_shutdown.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Jittered(delay), _shutdown.Token);
                attempt++;
                var connected = await ClientConnector.ConnectAsync(_config, _certificate, _settings, _channels.ListenPort, _channels.SharedTcpEndPoint, _logger, _shutdown.Token);
                _link = Start(new CoordinatorLink(connected.Connection, connected.Control));
                ClientLog.Reconnected(_logger, Id, attempt);
                var (rejoined, failed) = await RejoinBroadcastsAsync();
                Reconnected?.Invoke(this, new ReconnectedEventArgs(attempt, rejoined, failed));
                return;
            }
            catch (ConecException e) when (ReconnectPolicy.IsPermanent(e.Error))
            {
                // Retrying cannot fix this refusal (trust, identity, version): end the client with it.
                ClientLog.ReconnectFailed(_logger, Id, attempt, e.Message);
                _incoming.Writer.TryComplete(e);
                _completion.TrySetException(e);
                return;
            }
            catch (ConecException e)
            {
                // The coordinator may still be down, or may not have noticed our old connection die (IdInUse; in a
                // cluster, until the dead node's lease lapses): retry.
                ClientLog.ReconnectFailed(_logger, Id, attempt, e.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, policy.MaxDelay.Ticks));
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Not a refusal a retry can fix: give up visibly, through Completion, rather than retry blindly.
                ClientLog.ReconnectFailed(_logger, Id, attempt, e.Message);
                var reason = new ConecException(ConecError.ConnectionLost, $"Reconnecting to the coordinator failed for good: {e.Message}", e);
                _incoming.Writer.TryComplete(reason);
                _completion.TrySetException(reason);
                return;
            }
        }
    }

    /// <summary>
    /// Half to one and a half times <paramref name="delay"/>: clients that lost one coordinator (a cluster node's
    /// death sends all its clients away at once) spread their attempts instead of arriving together.
    /// </summary>
    private static TimeSpan Jittered(TimeSpan delay) => delay * (0.5 + Random.Shared.NextDouble());

    private async Task<(IReadOnlyList<RejoinedBroadcast> Rejoined, IReadOnlyList<BroadcastRejoinFailure> Failed)> RejoinBroadcastsAsync()
    {
        var rejoined = new List<RejoinedBroadcast>();
        var failed = new List<BroadcastRejoinFailure>();
        foreach (var (channel, options) in _memberships.TakeActive())
        {
            try
            {
                rejoined.Add(new RejoinedBroadcast(channel, await NewBroadcastAsync(channel, options, _shutdown.Token)));
            }
            catch (ConecException e)
            {
                ClientLog.ReconnectFailed(_logger, Id, 0, $"re-joining broadcast '{channel}' failed: {e.Message}");
                failed.Add(new BroadcastRejoinFailure(channel, e));
            }
        }

        return (rejoined, failed);
    }

    /// <summary>One coordinator connection and the loops serving it.</summary>
    private sealed class CoordinatorLink(TransportConnection connection, TransportStream control)
    {
        public TransportConnection Connection { get; } = connection;

        public TransportStream Control { get; } = control;

        public Task Loops { get; set; } = Task.CompletedTask;
    }

    /// <summary>What a reconnection reuses: the same certificate, transport settings and logger.</summary>
    private sealed record Identity(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate, TransportSettings Settings, Microsoft.Extensions.Logging.ILogger Logger);
}
