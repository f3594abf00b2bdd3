using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport;

/// <summary>
/// One bidirectional stream with independent directions (RFC 9000 §3): the send side can be finished or reset,
/// the receive side can be read to its end or stopped.
/// </summary>
internal abstract class TransportStream : IAsyncDisposable
{
    private const int GatherChunk = 64 * 1024;

    /// <summary>Segments shorter than this are gathered by the default sequence write; longer ones go as they are.</summary>
    private const int GatherBelowBytes = 8 * 1024;

    /// <summary>
    /// The received bytes. Reading returns <c>IsCompleted</c> after the peer finished; a peer reset or a connection
    /// failure throws <see cref="ConecException"/>. Consuming bytes returns flow-control credit to the peer.
    /// </summary>
    public abstract PipeReader Input { get; }

    /// <summary>
    /// Writes bytes, waiting while flow control gives no credit. Fails promptly with
    /// <see cref="ConecError.StreamStopped"/> when the peer stops reading, even while blocked.
    /// </summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken);

    /// <summary>
    /// Writes bytes held in several segments, as <see cref="WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/>
    /// does. This default writes large segments as they are and gathers runs of small ones into pooled chunks of
    /// up to 64 KiB first, since a write per small segment would cost far more than the copy. A transport that can
    /// take every segment in one call overrides it.
    /// </summary>
    public virtual async ValueTask WriteAsync(ReadOnlySequence<byte> data, bool completeWrites, CancellationToken cancellationToken)
    {
        if (data.IsSingleSegment)
        {
            await WriteAsync(data.First, completeWrites, cancellationToken);
            return;
        }

        byte[]? chunk = null;
        var held = 0;
        try
        {
            foreach (var segment in data)
            {
                if (segment.Length < GatherBelowBytes)
                {
                    chunk ??= ArrayPool<byte>.Shared.Rent(GatherChunk);
                    if (held + segment.Length > chunk.Length)
                    {
                        await WriteAsync(chunk.AsMemory(0, held), false, cancellationToken);
                        held = 0;
                    }

                    segment.Span.CopyTo(chunk.AsSpan(held));
                    held += segment.Length;
                    continue;
                }

                if (held > 0)
                {
                    await WriteAsync(chunk.AsMemory(0, held), false, cancellationToken);
                    held = 0;
                }

                await WriteAsync(segment, false, cancellationToken);
            }

            if (held > 0 || completeWrites)
            {
                await WriteAsync(chunk.AsMemory(0, held), completeWrites, cancellationToken);
            }
        }
        finally
        {
            if (chunk is not null)
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    /// <summary>Finishes the send side gracefully: the peer reads the remaining bytes, then the end.</summary>
    public abstract void CompleteWrites();

    /// <summary>Resets the send side: the peer's reads fail with <see cref="ConecError.StreamAborted"/> and this code.</summary>
    public abstract void AbortWrite(long errorCode);

    /// <summary>Stops reading: the peer's writes fail with <see cref="ConecError.StreamStopped"/> and this code.</summary>
    public abstract void AbortRead(long errorCode);

    /// <summary>
    /// Whether the peer's sending side has ended (finished or reset), as known to the transport right now, even
    /// before the reader has consumed the remaining bytes. Counts read it to be exact at the moment they are asked.
    /// </summary>
    public abstract bool PeerSendingEnded { get; }

    /// <summary>Completes when the send side is done: faults with <see cref="ConecException"/> if it ended by an abort.</summary>
    public abstract Task WritesClosed { get; }

    /// <summary>
    /// Finishes writes if still open and stops reading if the end was not reached, like dropping a quinn stream.
    /// </summary>
    public abstract ValueTask DisposeAsync();
}
