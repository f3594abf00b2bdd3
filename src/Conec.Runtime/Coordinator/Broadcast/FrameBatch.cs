using System.Buffers;

namespace Conec.Broadcasting;

/// <summary>
/// A receiver's batch of frames seen as one byte sequence, so the whole batch is one transport write that copies each
/// frame once, straight into the connection's send buffer. The segment objects are reused from batch to batch.
/// </summary>
internal sealed class FrameBatch
{
    private readonly List<Segment> _segments = [];
    private int _count;

    public void Add(ReadOnlyMemory<byte> frame)
    {
        if (_count == _segments.Count)
        {
            _segments.Add(new Segment());
        }

        var segment = _segments[_count];
        var runningIndex = 0L;
        if (_count > 0)
        {
            var previous = _segments[_count - 1];
            runningIndex = previous.RunningIndex + previous.Memory.Length;
            previous.Link(segment);
        }

        segment.Reset(frame, runningIndex);
        _count++;
    }

    /// <summary>The frames added since the last <see cref="Clear"/>, in order; valid until then.</summary>
    public ReadOnlySequence<byte> ToSequence()
    {
        if (_count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var last = _segments[_count - 1];
        return new ReadOnlySequence<byte>(_segments[0], 0, last, last.Memory.Length);
    }

    /// <summary>Forgets the frames (their buffers belong to the caller, which releases them).</summary>
    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            _segments[i].Reset(ReadOnlyMemory<byte>.Empty, 0);
        }

        _count = 0;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public void Reset(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
            Next = null;
        }

        public void Link(Segment next) => Next = next;
    }
}
