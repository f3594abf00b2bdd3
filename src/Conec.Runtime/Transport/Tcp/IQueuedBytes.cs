namespace Conec.Transport.Tcp;

/// <summary>Bytes a stream write hands to the send buffer as credit allows: contiguous or in segments.</summary>
internal interface IQueuedBytes<TSelf>
    where TSelf : struct, IQueuedBytes<TSelf>
{
    bool IsEmpty { get; }

    /// <summary>Queues as much as credit allows; returns how much (see <see cref="MuxSendQueue.QueueData(MuxStream, ReadOnlySpan{byte}, bool, out bool)"/>).</summary>
    int Queue(MuxSendQueue queue, MuxStream stream, bool completeWrites, out bool fin);

    /// <summary>What is left after the first <paramref name="count"/> bytes.</summary>
    TSelf Skip(int count);
}
