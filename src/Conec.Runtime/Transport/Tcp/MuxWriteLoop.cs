using System.Net.Security;
using System.Net.Sockets;

namespace Conec.Transport.Tcp;

/// <summary>
/// The connection's one writer: sends each batch the send queue hands over through TLS, gathering a batch's records
/// into one socket send, and half-closes the socket once the queue is closed and drained.
/// </summary>
internal sealed class MuxWriteLoop(MuxConnection connection, MuxSendQueue queue, Socket socket, SslStream ssl, RecordCoalescingStream records,
    CancellationToken lifetime)
{
    // The most data one TLS record carries; SslStream writes one record per this much.
    private const int MaxRecordData = 16 * 1024;

    /// <summary>
    /// Sends one batch on the calling thread, for a write that found the writer idle, then hands the writer back
    /// (<see cref="MuxSendQueue.HandOffWriter"/>): a caller never becomes the writer for everyone else's frames.
    /// It runs synchronously until TLS or the socket must wait, and handles every failure itself.
    /// </summary>
    public void WriteInline() => _ = WriteInlineAsync();

    private async Task WriteInlineAsync()
    {
        var batch = queue.TakeBatch(out var drained);
        if (batch.IsEmpty)
        {
            if (drained)
            {
                queue.HandOffWriter(); // closed meanwhile: the loop half-closes
            }

            return;
        }

        try
        {
            await SendAsync(batch, lifetime);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            OnSendFailed(e);
        }
        finally
        {
            queue.KeepAsSpare(batch);
        }

        queue.HandOffWriter();
    }

    public async Task RunAsync()
    {
        var cancellationToken = lifetime;
        try
        {
            while (true)
            {
                await queue.WaitForFramesAsync(cancellationToken);
                while (true)
                {
                    var batch = queue.TakeBatch(out var drained);
                    if (batch.IsEmpty)
                    {
                        if (!drained)
                        {
                            break; // idle: the queue wakes this loop when frames arrive
                        }

                        // Closed and drained. Half-close: the peer reads our CLOSE frame, then end of stream.
                        socket.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    try
                    {
                        await SendAsync(batch, cancellationToken);
                    }
                    finally
                    {
                        queue.KeepAsSpare(batch);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            OnSendFailed(e);
        }
    }

    private void OnSendFailed(Exception e) =>
        connection.Shutdown(new ConecException(ConecError.ConnectionLost, $"Sending to {connection.RemoteEndPoint} failed: {e.Message}", e),
            sendClose: false, 0, string.Empty, transportError: false);

    /// <summary>
    /// SslStream writes each TLS record to the socket on its own; gathered, the batch's records leave in one send.
    /// A batch that fits one record has nothing to gather.
    /// </summary>
    private async ValueTask SendAsync(MuxSendBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Urgent is null || batch.Bulk is null)
        {
            var (single, length) = batch.Urgent is { } urgent ? (urgent, batch.UrgentLength) : (batch.Bulk!, batch.BulkLength);
            if (length <= MaxRecordData)
            {
                await ssl.WriteAsync(single.AsMemory(0, length), cancellationToken);
                return;
            }
        }

        await records.BeginBatchAsync(batch.Length, cancellationToken);
        if (batch.Urgent is { } first)
        {
            await ssl.WriteAsync(first.AsMemory(0, batch.UrgentLength), cancellationToken);
        }

        if (batch.Bulk is { } second)
        {
            await ssl.WriteAsync(second.AsMemory(0, batch.BulkLength), cancellationToken);
        }

        await records.EndBatchAsync(cancellationToken);
    }
}