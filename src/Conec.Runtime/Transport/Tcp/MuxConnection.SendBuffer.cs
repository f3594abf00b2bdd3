using System.Buffers;

namespace Conec.Transport.Tcp;

/// <summary>The send buffer: frames wait in one pooled array, which the writer loop takes whole as its next batch.</summary>
internal sealed partial class MuxConnection
{
    // Small frames written between two passes of the writer loop leave in one TLS write: that is the coalescing.
    // The buffer is bounded by flow control (data needs credit) plus small control frames. It is rented only while
    // frames wait, so an idle connection holds no send buffer (a coordinator keeps thousands of idle ones).
    private const int MinimumSendBuffer = 16 * 1024;

    // Guarded by _sendLock, as are the rest of the send state's fields (MuxConnection.Send.cs).
    private byte[]? _pending;
    private int _pendingLength;

    // The last batch's array, kept for the next batch while the writer is busy. A batch fills while the one before it
    // is encrypted, and each started from a fresh 16 KiB array used to re-copy everything pending at every doubling:
    // 1.65 bytes copied again per byte queued, measured at a 10-receiver fan-out. It is returned as soon as the
    // writer finds nothing pending, so an idle connection still holds no send buffer.
    private byte[]? _spare;

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_pending))]
    private void EnsurePendingCapacity(int needed)
    {
        if (_pending is null)
        {
            _pending = TakeSpareLocked(needed) ?? ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinimumSendBuffer));
        }
        else if (needed > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _pending.Length * 2));
            _pending.AsSpan(0, _pendingLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = larger;
        }
    }

    /// <summary>The kept array when it is large enough; one too small goes back to the pool.</summary>
    private byte[]? TakeSpareLocked(int needed)
    {
        var spare = _spare;
        _spare = null;
        if (spare is null || spare.Length >= needed)
        {
            return spare;
        }

        ArrayPool<byte>.Shared.Return(spare);
        return null;
    }

    /// <summary>Keeps a sent batch's array for the next batch, unless one is kept already or sending has ended.</summary>
    private void KeepAsSpare(byte[] batch)
    {
        lock (_sendLock)
        {
            if (_spare is null && !_sendClosed)
            {
                _spare = batch;
                return;
            }
        }

        ArrayPool<byte>.Shared.Return(batch);
    }
}
