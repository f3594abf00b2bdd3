using System.Net.Quic;
using System.Runtime.Versioning;
using System.Security.Authentication;

namespace Conec.Transport.Quic;

/// <summary>
/// The QUIC server's "ready" signal: one unidirectional stream carrying one byte, opened as soon as the server has
/// accepted the connection. A QUIC client's handshake completes when it has sent its certificate, before the server
/// has checked it; System.Net.Quic checks it on the thread pool, and msquic discards the client's 1-RTT packets that
/// arrive meanwhile, so a client that writes at once (the hello) is heard only after a probe timeout: about 25 ms,
/// as much again as the whole handshake on a LAN. Waiting for the signal costs one one-way trip instead. See
/// docs/protocol.md ("QUIC: the server's ready signal").
/// </summary>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal static class QuicReadySignal
{
    /// <summary>The one byte the ready stream carries before its end.</summary>
    public const byte Value = 0x01;

    private static readonly ReadOnlyMemory<byte> Payload = new[] { Value };

    /// <summary>
    /// Server side: opens the ready stream and sends the signal. Returns why that failed, or null: a client that grants
    /// no unidirectional stream within <paramref name="timeout"/> does not speak this protocol (a protocol violation,
    /// for the caller to close); any other failure means the connection is already closing.
    /// </summary>
    public static async Task<ConecException?> SendAsync(QuicConnection connection, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await using var stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, deadline.Token);
            await stream.WriteAsync(Payload, completeWrites: true, deadline.Token);
            return null;
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            return new ConecException(ConecError.ProtocolViolation,
                $"The QUIC client at {connection.RemoteEndPoint} took no ready signal within {timeout.TotalSeconds:0.#} s.", e);
        }
        catch (QuicException e)
        {
            return QuicErrors.Map(e, writing: true);
        }
        catch (AuthenticationException e)
        {
            return QuicErrors.Map(e);
        }
        catch (ObjectDisposedException e)
        {
            return new ConecException(ConecError.ConnectionAborted, "The connection was disposed.", e);
        }
    }

    /// <summary>
    /// Client side: waits for the server's ready signal. Bidirectional streams the server opens first (it may, on a
    /// direct channel) are kept, in order, for the connection's inbound queue.
    /// </summary>
    public static async Task<List<QuicStream>> AwaitAsync(QuicConnection connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var early = new List<QuicStream>();
        try
        {
            while (true)
            {
                var stream = await connection.AcceptInboundStreamAsync(deadline.Token);
                if (stream.Type == QuicStreamType.Bidirectional)
                {
                    early.Add(stream);
                    continue;
                }

                await using (stream)
                {
                    await ReadSignalAsync(stream, deadline.Token);
                }

                return early;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeAllAsync(early);
            throw new ConecException(ConecError.HandshakeFailed,
                $"The QUIC server at {connection.RemoteEndPoint} sent no ready signal within {timeout.TotalSeconds:0.#} s: it does not speak this protocol version.");
        }
        catch
        {
            await DisposeAllAsync(early);
            throw;
        }
    }

    private static async Task ReadSignalAsync(QuicStream stream, CancellationToken cancellationToken)
    {
        // One byte, then the end: two bytes of room tells a longer stream from a correct one.
        var buffer = new byte[2];
        var length = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
            if (length == buffer.Length)
            {
                break;
            }
        }

        if (length != 1 || buffer[0] != Value)
        {
            throw new ConecException(ConecError.ProtocolViolation,
                $"The QUIC server's ready stream carried {length} byte(s) instead of the single byte {Value}.");
        }
    }

    private static async Task DisposeAllAsync(List<QuicStream> streams)
    {
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }
    }
}
