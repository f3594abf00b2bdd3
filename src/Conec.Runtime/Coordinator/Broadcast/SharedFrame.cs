using System.Buffers;

namespace Conec.Coordinator.Broadcast;

/// <summary>
/// One tagged broadcast frame, built once and written to every receiver: a pooled buffer with a reference count,
/// returned to the pool when the last receiver has written (or dropped) it.
/// </summary>
internal sealed class SharedFrame
{
    private readonly byte[] _buffer;
    private readonly int _length;
    private int _references = 1;

    private SharedFrame(byte[] buffer, int length, bool remote)
    {
        _buffer = buffer;
        _length = length;
        Remote = remote;
    }

    /// <summary>Stamped by another node and received over a link: fanned out to this node's members only, never sent on.</summary>
    public bool Remote { get; }

    /// <summary>The frame, length prefix included, ready to write.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, _length);

    public Span<byte> Span => _buffer.AsSpan(0, _length);

    /// <summary>A frame of <paramref name="length"/> bytes holding one reference (the creator's).</summary>
    public static SharedFrame Rent(int length, bool remote = false) => new(ArrayPool<byte>.Shared.Rent(length), length, remote);

    public void AddReferences(int count) => Interlocked.Add(ref _references, count);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }
}
