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
/// Credit is returned in batches of <see cref="CreditBatch"/> bytes, and at once when the reader has consumed all it
/// was given or is about to wait: a reader of small messages takes the stream's locks once per read rather than once
/// per message, while a stream whose reader caught up and then paused holds no connection credit back (with many
/// such streams, the others would starve).
/// </remarks>
internal sealed class MuxStreamReader(PipeReader inner, MuxStream owner) : PipeReader
{
    private const long CreditBatch = 16 * 1024;
    private ReadOnlySequence<byte> _lastBuffer;
    private long _examinedAhead; // bytes examined beyond the consumed point, already counted as owed
    private long _owed;          // credit counted but not yet returned to the stream
    private bool _lastWasFinal;  // the last read saw the end of the stream: nothing more will come to batch with

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        // The common case, data already buffered, completes without an async state machine.
        var reading = inner.ReadAsync(cancellationToken);
        if (reading.IsCompletedSuccessfully)
        {
            return new ValueTask<ReadResult>(Remember(reading.Result));
        }

        ReturnCredit();
        return WaitAsync(reading);
    }

    private async ValueTask<ReadResult> WaitAsync(ValueTask<ReadResult> reading) => Remember(await reading);

    private ReadResult Remember(ReadResult result)
    {
        _lastBuffer = result.Buffer;
        _lastWasFinal = result.IsCompleted;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        Remember(result);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var lastLength = _lastBuffer.Length;
        var consumedCount = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        var examinedCount = _lastBuffer.Slice(_lastBuffer.Start, examined).Length;
        _lastBuffer = default;
        inner.AdvanceTo(consumed, examined);
        owner.OnReaderConsumed(consumedCount);

        // Credit is owed for everything up to the furthest point examined, counted once.
        var creditedBefore = _examinedAhead;
        var creditedNow = Math.Max(examinedCount, consumedCount);
        _examinedAhead = Math.Max(creditedNow, creditedBefore) - consumedCount;
        _owed += Math.Max(0, creditedNow - creditedBefore);
        if (_owed >= CreditBatch || _lastWasFinal || consumedCount == lastLength)
        {
            ReturnCredit();
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        _owed = 0;
        owner.AbortRead(0);
        inner.Complete(exception);
    }

    private void ReturnCredit()
    {
        if (_owed > 0)
        {
            owner.OnConsumed(_owed);
            _owed = 0;
        }
    }
}
