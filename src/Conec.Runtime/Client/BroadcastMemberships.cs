using Conec.Protocol;

namespace Conec;

/// <summary>
/// This client's broadcast memberships, so a count request can say which of them it has left (see
/// <see cref="StreamHeader.Members"/>). A membership that has ended is kept while its channel exists (its leave may
/// still be in flight), and forgotten once a count finds the channel gone; at most <see cref="Limit"/> are kept.
/// </summary>
internal sealed class BroadcastMemberships
{
    private const int Limit = 1024;

    private readonly Lock _lock = new();
    private readonly List<(string Channel, ulong StreamId, StreamPair Pair, BroadcastOptions Options)> _joined = [];

    public void Join(string channel, ulong streamId, StreamPair pair, BroadcastOptions options)
    {
        lock (_lock)
        {
            if (_joined.Count >= Limit)
            {
                var ended = _joined.FindIndex(m => m.Pair.Send.IsDone && m.Pair.Receive.IsDone);
                _joined.RemoveAt(ended >= 0 ? ended : 0);
            }

            _joined.Add((channel, streamId, pair, options));
        }
    }

    public MemberState[] StatesIn(string channel)
    {
        lock (_lock)
        {
            return [.. _joined.Where(m => m.Channel == channel).Select(m => new MemberState(m.StreamId, !m.Pair.Send.IsDone, !m.Pair.Receive.IsDone))];
        }
    }

    /// <summary>
    /// After a lost connection: the memberships still joined (writer or reader open), to re-join. All are forgotten:
    /// their streams died with the connection.
    /// </summary>
    public (string Channel, BroadcastOptions Options)[] TakeActive()
    {
        lock (_lock)
        {
            var active = _joined.Where(m => !m.Pair.Send.IsDone || !m.Pair.Receive.IsDone).Select(m => (m.Channel, m.Options)).ToArray();
            _joined.Clear();
            return active;
        }
    }

    /// <summary>The channel no longer exists: its ended memberships need no more reporting.</summary>
    public void Forget(string channel)
    {
        lock (_lock)
        {
            _joined.RemoveAll(m => m.Channel == channel && m.Pair.Send.IsDone && m.Pair.Receive.IsDone);
        }
    }
}
