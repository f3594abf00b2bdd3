using System.Buffers;

namespace Conec.Transport.Tcp;

/// <summary>A write's bytes in several segments, as a pipe holds them.</summary>
internal readonly struct SegmentedBytes(ReadOnlySequence<byte> bytes) : IQueuedBytes<SegmentedBytes>
{
    public bool IsEmpty => bytes.IsEmpty;

    public int Queue(MuxSendQueue queue, MuxStream stream, bool completeWrites, out bool fin) =>
        queue.QueueData(stream, bytes, completeWrites, out fin);

    public SegmentedBytes Skip(int count) => new(bytes.Slice(count));
}
