namespace Conec.Transport.Tcp;

/// <summary>A write's bytes in one block of memory.</summary>
internal readonly struct ContiguousBytes(ReadOnlyMemory<byte> bytes) : IQueuedBytes<ContiguousBytes>
{
    public bool IsEmpty => bytes.IsEmpty;

    public int Queue(MuxSendQueue queue, MuxStream stream, bool completeWrites, out bool fin) =>
        queue.QueueData(stream, bytes.Span, completeWrites, out fin);

    public ContiguousBytes Skip(int count) => new(bytes[count..]);
}
