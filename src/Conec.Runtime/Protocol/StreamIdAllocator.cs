namespace Conec.Protocol;

/// <summary>
/// Stream ids of one opener. Automatic ids count up from 2^63 (conec v0.2.0); explicit ids must lie below that.
/// Ids are never reused. Only explicit ids are remembered: automatic ones cannot collide by construction, so a
/// long-lived client does not accumulate a set of every id it ever used.
/// </summary>
internal sealed class StreamIdAllocator
{
    /// <summary>The first automatic id; ids from here up are the allocator's own.</summary>
    public const ulong FirstAutomatic = 1UL << 63;

    private readonly HashSet<ulong> _explicitIds = [];
    private ulong _next = FirstAutomatic;

    public ulong Next() => Interlocked.Increment(ref _next) - 1;

    /// <summary>Claims an id the caller chose.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.StreamIdInUse"/> when already used or reserved.</exception>
    public void Claim(ulong id)
    {
        if (id >= FirstAutomatic)
        {
            var issued = Volatile.Read(ref _next) > id;
            throw new ConecException(ConecError.StreamIdInUse, issued
                ? $"Stream id {id} was already used by this side (ids are never reused)."
                : $"Stream id {id} is reserved for automatic allocation; choose explicit ids below 2^63.");
        }

        lock (_explicitIds)
        {
            if (!_explicitIds.Add(id))
            {
                throw new ConecException(ConecError.StreamIdInUse, $"Stream id {id} was already used by this side (ids are never reused).");
            }
        }
    }
}
