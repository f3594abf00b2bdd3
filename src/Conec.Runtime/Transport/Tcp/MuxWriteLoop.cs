using System.Net.Security;
using System.Net.Sockets;

namespace Conec.Transport.Tcp;

/// <summary>
/// The connection's one writer: sends each batch the send queue hands over through TLS, gathering a batch's records
/// into one socket send, and half-closes the socket once the queue is closed and drained.
/// </summary>
internal sealed class MuxWriteLoop(MuxConnection connection, MuxSendQueue queue, Socket socket, SslStream ssl, RecordCoalescingStream records)
{
    // The most data one TLS record carries; SslStream writes one record per this much.
    private const int MaxRecordData = 16 * 1024;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await queue.WaitForFramesAsync(cancellationToken);
                while (true)
                {
                    var batch = queue.TakeBatch(out var length, out var drained);
                    if (batch is null)
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
                        // SslStream writes each TLS record to the socket on its own; gathered, they leave in one
                        // send. A batch that fits one record has nothing to gather.
                        if (length <= MaxRecordData)
                        {
                            await ssl.WriteAsync(batch.AsMemory(0, length), cancellationToken);
                        }
                        else
                        {
                            await records.BeginBatchAsync(length, cancellationToken);
                            await ssl.WriteAsync(batch.AsMemory(0, length), cancellationToken);
                            await records.EndBatchAsync(cancellationToken);
                        }
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
            connection.Shutdown(new ConecException(ConecError.ConnectionLost, $"Sending to {connection.RemoteEndPoint} failed: {e.Message}", e),
                sendClose: false, 0, string.Empty, transportError: false);
        }
    }
}
