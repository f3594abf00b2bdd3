using System.Buffers.Binary;
using Conec.Streams;
using Conec.Transport;

namespace Conec;

/// <summary>
/// The sending half of a Conec stream. Each send is one whole message; a send waits while the receiver is not
/// keeping up (flow control reaches through relays to here) and fails promptly once the receiver stops reading.
/// </summary>
public sealed class OutStream : IAsyncDisposable
{
    private readonly TransportStream _stream;
    private readonly byte[] _scratch = new byte[FrameLimits.HeaderSize + FrameLimits.CoalesceLimit];
    private int _sending;
    private bool _done;

    internal OutStream(TransportStream stream, int maxMessageSize)
    {
        FrameLimits.Validate(maxMessageSize);
        _stream = stream;
        MaxMessageSize = maxMessageSize;
    }

    /// <summary>Whether this side will send no more (finished, aborted or disposed).</summary>
    internal bool IsDone => Volatile.Read(ref _done);

    /// <summary>The largest message this stream sends; a longer one is refused before anything is written.</summary>
    public int MaxMessageSize { get; }

    /// <summary>
    /// Completes when the sending side is done: successfully after <see cref="FinishAsync"/>, faulted with
    /// <see cref="ConecError.StreamStopped"/> when the receiver stops reading, or with the connection's error.
    /// </summary>
    public Task Completion => _stream.WritesClosed;

    /// <summary>Sends one message. Sends on one stream must not overlap.</summary>
    /// <exception cref="ConecException">The message is too large, the receiver stopped reading, or the connection failed.</exception>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (message.Length > MaxMessageSize)
        {
            throw new ConecException(ConecError.MessageTooLarge, $"A message of {message.Length} bytes exceeds the limit of {MaxMessageSize}.");
        }

        if (Interlocked.Exchange(ref _sending, 1) == 1)
        {
            throw new InvalidOperationException("Another send is already in progress on this stream; await each send before the next.");
        }

        try
        {
            BinaryPrimitives.WriteUInt32BigEndian(_scratch, (uint)message.Length);
            if (message.Length <= FrameLimits.CoalesceLimit)
            {
                message.Span.CopyTo(_scratch.AsSpan(FrameLimits.HeaderSize));
                await _stream.WriteAsync(_scratch.AsMemory(0, FrameLimits.HeaderSize + message.Length), false, cancellationToken);
            }
            else
            {
                await _stream.WriteAsync(_scratch.AsMemory(0, FrameLimits.HeaderSize), false, cancellationToken);
                await _stream.WriteAsync(message, false, cancellationToken);
            }
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }

    /// <summary>
    /// Ends the stream gracefully: the receiver reads every message sent, then the end. Returns once the end is
    /// queued; it does not wait for the receiver to read (see <see cref="Completion"/>).
    /// </summary>
    public ValueTask FinishAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Volatile.Write(ref _done, true);
        _stream.CompleteWrites();
        return ValueTask.CompletedTask;
    }

    /// <summary>Abandons the stream: the receiver's reads fail with <see cref="ConecError.StreamAborted"/> and <paramref name="errorCode"/>.</summary>
    public void Abort(long errorCode = 0)
    {
        Volatile.Write(ref _done, true);
        _stream.AbortWrite(errorCode);
    }

    /// <summary>Finishes the stream if it is still open, like dropping a conec <c>OutStream</c>.</summary>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _done, true);
        _stream.CompleteWrites();
        return ValueTask.CompletedTask;
    }
}
