using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.Tcp;

/// <summary>
/// The application's view of a stream's receive pipe. It returns flow-control credit for what the application
/// has consumed or examined, and turns completing the reader into stop-sending.
/// </summary>
/// <remarks>
/// Examined bytes count as well as consumed ones: a framing reader that waits for the rest of a message larger
/// than the window has examined everything it holds, and must get more, as a reader over a QUIC stream does.
/// What it may hold is then bounded by its own message limit, not by the window.
/// </remarks>
internal sealed class MuxStreamReader(PipeReader inner, MuxStream owner) : PipeReader
{
    private ReadOnlySequence<byte> _lastBuffer;
    private long _examinedAhead; // bytes examined beyond the consumed point, already credited

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken);
        _lastBuffer = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        _lastBuffer = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var consumedCount = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        var examinedCount = _lastBuffer.Slice(_lastBuffer.Start, examined).Length;
        _lastBuffer = default;
        inner.AdvanceTo(consumed, examined);

        // Credit is owed for everything up to the furthest point examined, counted once.
        var creditedBefore = _examinedAhead;
        var creditedNow = Math.Max(examinedCount, consumedCount);
        _examinedAhead = Math.Max(creditedNow, creditedBefore) - consumedCount;
        owner.OnConsumed(Math.Max(0, creditedNow - creditedBefore));
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        owner.AbortRead(0);
        inner.Complete(exception);
    }
}
