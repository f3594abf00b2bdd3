using System.Buffers;
using Conec.Protocol;
using Conec.Transport;

namespace Conec.Coordinator;

/// <summary>
/// Joins two transport streams on the coordinator: bytes flow both ways untouched (frames are never decoded), and
/// each end's finish, abort and stop-sending reach the other end. Nothing is buffered beyond what the incoming
/// leg's flow-control window admits, so a receiver that stops reading stalls its sender (back-pressure end to end).
/// </summary>
internal static class StreamRelay
{
    /// <summary>
    /// Relays until both directions are done, then releases both streams. Never throws. When the first leg's
    /// connection fails the second is reset and stopped with <paramref name="firstLost"/>, and the other way round
    /// (a link between two nodes of a cluster says so with a code of its own).
    /// </summary>
    public static async Task RunAsync(TransportStream first, TransportStream second, Diagnostics.ConecMetrics metrics, CancellationToken cancellationToken,
        long firstLost = ProtocolCodes.StreamPeerLost, long secondLost = ProtocolCodes.StreamPeerLost)
    {
        // Where both legs are on the TCP multiplexer, bytes that meet an idle pump and a leg with credit skip the
        // pump: the reader loop copies them once, straight into the other connection's send buffer.
        (first as IReceiveForwarding)?.TryForwardReceivedTo(second, metrics.CountRelayed);
        (second as IReceiveForwarding)?.TryForwardReceivedTo(first, metrics.CountRelayed);
        try
        {
            await Task.WhenAll(
                PumpAsync(first, second, metrics, firstLost, secondLost, cancellationToken),
                PumpAsync(second, first, metrics, secondLost, firstLost, cancellationToken),
                ForwardStopAsync(second, first, secondLost),
                ForwardStopAsync(first, second, firstLost));
        }
        finally
        {
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
    }

    private static async Task PumpAsync(TransportStream from, TransportStream to, Diagnostics.ConecMetrics metrics, long fromLost, long toLost, CancellationToken cancellationToken)
    {
        var input = from.Input;
        while (true)
        {
            System.IO.Pipelines.ReadResult result;
            try
            {
                result = await input.ReadAsync(cancellationToken);
            }
            catch (ConecException e)
            {
                // The sender aborted (pass its code on) or its connection died (tell the receiver its peer is gone).
                to.AbortWrite(e.Error == ConecError.StreamAborted ? e.ApplicationErrorCode ?? 0 : fromLost);
                return;
            }
            catch (OperationCanceledException)
            {
                to.AbortWrite(ProtocolCodes.StreamPeerLost);
                from.AbortRead(ProtocolCodes.StreamPeerLost);
                return;
            }

            var buffer = result.Buffer;
            try
            {
                metrics.CountRelayed(buffer.Length);
                await ForwardAsync(buffer, to, cancellationToken);
            }
            catch (Exception e) when (e is ConecException or OperationCanceledException)
            {
                input.AdvanceTo(buffer.End);
                from.AbortRead(StopCode(e, toLost));
                to.AbortWrite(ProtocolCodes.StreamPeerLost);
                return;
            }

            input.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                to.CompleteWrites();
                return;
            }
        }
    }

    /// <summary>
    /// Writes what arrived as it lies in the incoming pipe's segments: the TCP transport copies them straight into
    /// its send buffer under one lock; QUIC gathers them into larger writes first.
    /// </summary>
    private static ValueTask ForwardAsync(ReadOnlySequence<byte> buffer, TransportStream to, CancellationToken cancellationToken) =>
        to.WriteAsync(buffer, false, cancellationToken);

    /// <summary>
    /// A receiver that stops reading is passed on at once, not at the sender's next write: a sender that is idle
    /// (or blocked on credit) learns promptly that nobody will read what it sends.
    /// </summary>
    private static async Task ForwardStopAsync(TransportStream receiverSide, TransportStream senderSide, long receiverLost)
    {
        try
        {
            await receiverSide.WritesClosed;
        }
        catch (ConecException e)
        {
            senderSide.AbortRead(StopCode(e, receiverLost));
        }
    }

    private static long StopCode(Exception e, long lost) =>
        e is ConecException { Error: ConecError.StreamStopped, ApplicationErrorCode: { } code } ? code : lost;
}
