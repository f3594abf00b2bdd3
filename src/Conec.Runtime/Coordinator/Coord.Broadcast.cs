using Conec.Coordinator.Broadcast;
using Conec.Protocol;
using Conec.Transport.InProcess;

namespace Conec;

/// <summary>The coordinator as a member of its own broadcast channels.</summary>
public sealed partial class Coord
{
    // Room on the reader for the sender tag the fan-out adds (an id of at most 253 bytes and a 4-byte trailer), as a client allows.
    private const int BroadcastTagAllowance = 512;

    private readonly StreamIdAllocator _broadcastIds = new();

    /// <summary>
    /// Joins broadcast channel <paramref name="channel"/> (created by the first join) as the coordinator: the same
    /// pair a client gets. What the coordinator sends reaches every member, itself included, tagged with
    /// <see cref="TaggedMessage.CoordinatorSender"/>, which no client id can equal; it reads every member's
    /// messages with their senders' ids, counts as a member in broadcast counts, and receives under its own
    /// <paramref name="options"/>. The membership ends like a client's: when both halves are done or disposed,
    /// or when the coordinator is disposed (its reader then fails, as a client's does).
    /// </summary>
    /// <exception cref="ConecException">
    /// <see cref="ConecError.InvalidConfiguration"/> for invalid options; in a cluster, <see cref="ConecError.ClusterUnavailable"/>
    /// when the join cannot be recorded in the directory.
    /// </exception>
    public async ValueTask<StreamPair> NewBroadcastAsync(string channel, BroadcastOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        options ??= BroadcastOptions.Default;
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var shutdown = _shutdown.Token;

        // The coordinator's end and the fan-out's end of one in-process stream: the fan-out serves it exactly as a
        // client's stream, so the policy, the queue, the counts and the end of the channel need nothing of their own.
        var (own, hub) = InProcessStream.CreatePair(_config.StreamBuffer);
        var member = new BroadcastMember(TaggedMessage.CoordinatorSender, _broadcastIds.Next(), hub, options.Policy, options.Capacity, _config.MaxMessageSize, _metrics);
        var joined = Broadcasts.Join(channel, member);
        _connections.Run(async () =>
        {
            // Shutdown is this stream's connection closing: its send side fails, as a client's stream does when
            // its connection closes (the member would otherwise wait for it forever).
            await using var closing = shutdown.Register(() => hub.AbortWrite(ProtocolCodes.StreamPeerLost));
            try
            {
                await member.RunAsync(joined, shutdown);
            }
            finally
            {
                joined.Remove(member);
            }
        });
        _metrics.StreamsOpened.Add(1, new KeyValuePair<string, object?>("kind", "broadcast"));

        // In a cluster the join is recorded (and the channel linked with the other nodes) before it returns, as a client's is.
        if (_cluster is not null)
        {
            try
            {
                await _cluster.RecordBroadcastAsync(channel, cancellationToken);
            }
            catch
            {
                await own.DisposeAsync();
                throw;
            }
        }

        return new StreamPair(new OutStream(own, _config.MaxMessageSize), new InStream(own, _config.MaxMessageSize + BroadcastTagAllowance))
        {
            Kind = StreamKind.Broadcast,
        };
    }
}
