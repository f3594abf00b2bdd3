using System.Buffers;
using System.Buffers.Binary;

namespace Conec.Transport.Tcp;

/// <summary>
/// One lane of a connection's outgoing frames: a pooled buffer that frames are appended to, and that the writer
/// loop takes whole. Not thread-safe: <see cref="MuxSendQueue"/> calls it under its lock.
/// </summary>
internal sealed class MuxSendLane
{
    private const int MinimumBuffer = 16 * 1024;

    private byte[]? _pending;

    // The last batch's array, kept for the next batch while the writer is busy, so a batch that fills while the one
    // before it is encrypted does not re-copy itself at every doubling; returned once the writer finds nothing pending.
    private byte[]? _spare;

    // Where the last frame starts, when it is a DATA frame without FIN that may still grow (else -1), and its stream:
    // a write on the same stream that follows at once extends that frame instead of adding a header.
    private int _openDataFrame = -1;
    private uint _openDataStream;

    /// <summary>Bytes waiting in this lane.</summary>
    public int Length { get; private set; }

    /// <summary>Makes room for <paramref name="bytes"/> more at once, so a large step grows the buffer at most once.</summary>
    public void Reserve(int bytes) => EnsureCapacity(Length + bytes);

    /// <summary>Appends one frame whose body the caller copies into the returned span.</summary>
    public Span<byte> Append(MuxFrameType type, byte flags, uint streamId, int bodyLength)
    {
        Span<byte> body;
        if (type == MuxFrameType.Data && _openDataFrame >= 0 && _openDataStream == streamId
            && Length - _openDataFrame - MuxFrame.HeaderSize + bodyLength <= MuxFrame.MaxDataChunk)
        {
            EnsureCapacity(Length + bodyLength);
            var header = _pending.AsSpan(_openDataFrame, MuxFrame.HeaderSize);
            header[1] |= flags;
            BinaryPrimitives.WriteInt32BigEndian(header[6..], Length - _openDataFrame - MuxFrame.HeaderSize + bodyLength);
            body = _pending.AsSpan(Length, bodyLength);
            Length += bodyLength;
        }
        else
        {
            EnsureCapacity(Length + MuxFrame.HeaderSize + bodyLength);
            MuxFrame.WriteHeader(_pending.AsSpan(Length), type, flags, streamId, bodyLength);
            body = _pending.AsSpan(Length + MuxFrame.HeaderSize, bodyLength);
            _openDataFrame = Length;
            _openDataStream = streamId;
            Length += MuxFrame.HeaderSize + bodyLength;
        }

        if (type != MuxFrameType.Data || flags != 0)
        {
            _openDataFrame = -1; // anything else must stay after the data before it; nothing follows a FIN
        }

        return body;
    }

    /// <summary>Takes every frame in the lane, or returns null when it is empty (and gives back the kept array).</summary>
    public byte[]? Take(out int length, out byte[]? unused)
    {
        var batch = _pending;
        length = Length;
        _pending = null;
        Length = 0;
        _openDataFrame = -1;
        unused = null;
        if (batch is null)
        {
            (unused, _spare) = (_spare, null);
        }

        return batch;
    }

    /// <summary>Keeps a sent batch's array for the next one; false when one is kept already, so the caller returns it.</summary>
    public bool TryKeepAsSpare(byte[] batch)
    {
        if (_spare is not null)
        {
            return false;
        }

        _spare = batch;
        return true;
    }

    /// <summary>Gives every array back to the pool, once sending has ended.</summary>
    public void ReturnSpare()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            ArrayPool<byte>.Shared.Return(spare);
        }
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_pending))]
    private void EnsureCapacity(int needed)
    {
        if (_pending is null)
        {
            _pending = TakeSpare(needed) ?? ArrayPool<byte>.Shared.Rent(Math.Max(needed, MinimumBuffer));
        }
        else if (needed > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _pending.Length * 2));
            _pending.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = larger;
        }
    }

    /// <summary>The kept array when it is large enough; one too small goes back to the pool.</summary>
    private byte[]? TakeSpare(int needed)
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
}
