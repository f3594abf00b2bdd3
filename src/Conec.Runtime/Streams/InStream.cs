using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Conec.Framing;
using Conec.Transport;

namespace Conec;

/// <summary>
/// The receiving half of a Conec stream: whole messages, in order. <c>await foreach</c> over it ends at the
/// sender's finish; a transport failure, a peer abort or a malformed frame throws <see cref="ConecException"/>.
/// </summary>
public sealed class InStream : IAsyncEnumerable<ReadOnlyMemory<byte>>, IMessageSource
{
    private readonly TransportStream _stream;
    private readonly PipeReader _input;
    private SequencePosition? _borrowedEnd;
    private ConecException? _failure;
    private bool _ended;

    internal InStream(TransportStream stream, int maxMessageSize)
    {
        FrameLimits.Validate(maxMessageSize);
        _stream = stream;
        _input = stream.Input;
        MaxMessageSize = maxMessageSize;
    }

    /// <summary>Whether this side will read no more (the end was reached, or reading was stopped).</summary>
    internal bool IsDone => Volatile.Read(ref _ended);

    /// <summary>The largest message this stream accepts; a longer one fails the stream with <see cref="ConecError.MessageTooLarge"/>.</summary>
    public int MaxMessageSize { get; }

    /// <summary>Reads the next message into a new array, or returns <see langword="null"/> at the end of the stream.</summary>
    public async ValueTask<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var message = await ReadSequenceAsync(cancellationToken);
        return message?.ToArray();
    }

    /// <summary>
    /// Reads the next message without copying it, or returns <see langword="null"/> at the end. The sequence is
    /// valid until the next read or disposal; deserializers read it in place.
    /// </summary>
    public async ValueTask<ReadOnlySequence<byte>?> ReadSequenceAsync(CancellationToken cancellationToken = default)
    {
        ReleaseBorrowed();
        if (_failure is not null)
        {
            throw _failure;
        }

        if (_ended)
        {
            return null;
        }

        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= FrameLimits.HeaderSize)
            {
                var length = ReadLength(buffer);
                if (length > MaxMessageSize)
                {
                    // Refused from the header alone: the claimed length is never allocated or waited for.
                    _input.AdvanceTo(buffer.Start);
                    _stream.AbortRead(FrameLimits.MessageTooLargeCode);
                    throw Fail(new ConecException(ConecError.MessageTooLarge,
                        $"The peer sent a message of {length} bytes; the limit is {MaxMessageSize}."));
                }

                if (buffer.Length >= FrameLimits.HeaderSize + length)
                {
                    var message = buffer.Slice(FrameLimits.HeaderSize, length);
                    _borrowedEnd = message.End;
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                _input.AdvanceTo(buffer.End);
                if (buffer.IsEmpty)
                {
                    _ended = true;
                    return null;
                }

                throw Fail(new ConecException(ConecError.TruncatedMessage,
                    $"The stream ended inside a message ({buffer.Length} bytes of an unfinished frame)."));
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <inheritdoc/>
    async ValueTask<ReceivedMessage?> IMessageSource.ReceiveAsync(CancellationToken cancellationToken) =>
        await ReadAsync(cancellationToken) is { } message ? new ReceivedMessage(message, 0) : null;

    /// <summary>Stops reading: the sender's pending and later sends fail with <see cref="ConecError.StreamStopped"/> and <paramref name="errorCode"/>.</summary>
    public void Abort(long errorCode = 0)
    {
        _ended = true;
        _stream.AbortRead(errorCode);
    }

    /// <summary>Yields each message as its own array, until the end of the stream.</summary>
    public async IAsyncEnumerator<ReadOnlyMemory<byte>> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }

    /// <summary>Stops reading if the end was not reached (the sender learns through stop-sending).</summary>
    public async ValueTask DisposeAsync()
    {
        ReleaseBorrowed();
        if (!_ended)
        {
            _ended = true;
            _stream.AbortRead(0);
        }

        await _input.CompleteAsync();
    }

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[FrameLimits.HeaderSize];
        buffer.Slice(0, FrameLimits.HeaderSize).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }

    private void ReleaseBorrowed()
    {
        if (_borrowedEnd is { } end)
        {
            _borrowedEnd = null;
            _input.AdvanceTo(end);
        }
    }

    private ConecException Fail(ConecException failure)
    {
        _failure = failure;
        return failure;
    }
}
