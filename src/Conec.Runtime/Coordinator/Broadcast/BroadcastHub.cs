namespace Conec.Coordinator.Broadcast;

/// <summary>The coordinator's broadcast channels by name; a join creates the channel, its end removes it.</summary>
internal sealed class BroadcastHub(Diagnostics.ConecMetrics metrics, CancellationToken shutdown)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, BroadcastChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Where the hub's channels count what they fan out and drop.</summary>
    public Diagnostics.ConecMetrics Metrics => metrics;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _channels.Count;
            }
        }
    }

    /// <summary>Adds <paramref name="member"/> to channel <paramref name="name"/>, creating it (anew, if the old one is ending).</summary>
    public BroadcastChannel Join(string name, BroadcastMember member)
    {
        lock (_lock)
        {
            if (_channels.TryGetValue(name, out var existing) && existing.TryAdd(member))
            {
                return existing;
            }

            var created = new BroadcastChannel(this, name, shutdown);
            created.TryAdd(member);
            _channels[name] = created;
            return created;
        }
    }

    /// <summary>
    /// Called (outside every channel lock) when a membership of this node changed: the cluster records the channel's
    /// counts in its directory. Null for a single coordinator.
    /// </summary>
    public Action<string>? Changed { get; set; }

    public void OnChanged(string name) => Changed?.Invoke(name);

    /// <summary>The channel now registered under <paramref name="name"/>, if any.</summary>
    public BroadcastChannel? Find(string name)
    {
        lock (_lock)
        {
            return _channels.GetValueOrDefault(name);
        }
    }

    /// <summary>The channels now registered, by name.</summary>
    public IReadOnlyList<BroadcastChannel> Channels()
    {
        lock (_lock)
        {
            return [.. _channels.Values];
        }
    }

    public (int Senders, int Receivers)? CountOf(string name, string asker, IReadOnlyList<Protocol.MemberState>? own)
    {
        BroadcastChannel? channel;
        lock (_lock)
        {
            _channels.TryGetValue(name, out channel);
        }

        return channel?.Count(asker, own);
    }

    /// <summary>Called by an ending channel: later joins of its name start a new channel.</summary>
    public void Remove(BroadcastChannel channel)
    {
        lock (_lock)
        {
            if (_channels.TryGetValue(channel.Name, out var current) && current == channel)
            {
                _channels.Remove(channel.Name);
            }
        }
    }
}
