using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Conec.Streams;
using Conec.Transport;

namespace Conec;

/// <summary>
/// The receiving half of a Conec stream: whole messages, in order. <c>await foreach</c> over it ends at the
/// sender's finish; a transport failure, a peer abort or a malformed frame throws <see cref="ConecException"/>.
/// </summary>
public sealed class InStream : IAsyncEnumerable<ReadOnlyMemory<byte>>, IMessageSource
{
    // Consumed messages are given back to the pipe (which returns their flow-control credit) in batches of this
    // many bytes, or when the buffered ones run out: small messages then cost slicing, not two pipe calls each.
    private const long AdvanceBatch = 16 * 1024;

    private readonly TransportStream _stream;
    private readonly PipeReader _input;

    // The unread rest of the last pipe read, valid until the next AdvanceTo; the messages handed out before it
    // stay valid with it. _consumed counts the bytes handed out since the last AdvanceTo.
    private ReadOnlySequence<byte> _buffered;
    private bool _holdingRead;
    private bool _readCompleted;
    private long _consumed;
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
    public ValueTask<ReadOnlySequence<byte>?> ReadSequenceAsync(CancellationToken cancellationToken = default)
    {
        if (_failure is not null)
        {
            return ValueTask.FromException<ReadOnlySequence<byte>?>(_failure);
        }

        // The common case, a whole message already buffered from the last pipe read, completes without awaiting.
        if (_holdingRead && !_ended && _consumed < AdvanceBatch && TryTakeMessage(out var message))
        {
            return new ValueTask<ReadOnlySequence<byte>?>(message);
        }

        return ReadFromPipeAsync(cancellationToken);
    }

    private async ValueTask<ReadOnlySequence<byte>?> ReadFromPipeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_ended)
            {
                ReleaseRead(examinedAll: false);
                return null;
            }

            if (_holdingRead)
            {
                // Give back what was handed out; mark the rest examined when it holds no whole message, so the
                // next read waits for more instead of returning the same bytes.
                var whole = HasWholeMessage();
                var left = _buffered.Length; // read before the release recycles the segments
                ReleaseRead(examinedAll: !whole);
                if (!whole && _readCompleted)
                {
                    return left == 0 ? End() : throw Fail(new ConecException(ConecError.TruncatedMessage,
                        $"The stream ended inside a message ({left} bytes of an unfinished frame)."));
                }
            }

            var result = await _input.ReadAsync(cancellationToken);
            _buffered = result.Buffer;
            _readCompleted = result.IsCompleted;
            _holdingRead = true;
            if (TryTakeMessage(out var message))
            {
                return message;
            }
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
        ReleaseRead(examinedAll: false);
        if (!_ended)
        {
            _ended = true;
            _stream.AbortRead(0);
        }

        await _input.CompleteAsync();
    }

    /// <summary>Takes the next whole message from the held read; refuses an oversize one from its header alone.</summary>
    private bool TryTakeMessage(out ReadOnlySequence<byte> message)
    {
        message = default;
        if (_buffered.Length < FrameLimits.HeaderSize)
        {
            return false;
        }

        var length = ReadLength(_buffered);
        if (length > MaxMessageSize)
        {
            // The claimed length is never allocated or waited for.
            ReleaseRead(examinedAll: false);
            _stream.AbortRead(FrameLimits.MessageTooLargeCode);
            throw Fail(new ConecException(ConecError.MessageTooLarge,
                $"The peer sent a message of {length} bytes; the limit is {MaxMessageSize}."));
        }

        var frameLength = FrameLimits.HeaderSize + length;
        if (_buffered.Length < frameLength)
        {
            return false;
        }

        message = _buffered.Slice(FrameLimits.HeaderSize, length);
        _buffered = _buffered.Slice(message.End);
        _consumed += frameLength;
        return true;
    }

    private bool HasWholeMessage() =>
        _buffered.Length >= FrameLimits.HeaderSize && _buffered.Length >= FrameLimits.HeaderSize + ReadLength(_buffered);

    private static uint ReadLength(in ReadOnlySequence<byte> buffer)
    {
        var first = buffer.FirstSpan;
        if (first.Length >= FrameLimits.HeaderSize)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        Span<byte> header = stackalloc byte[FrameLimits.HeaderSize];
        buffer.Slice(0, FrameLimits.HeaderSize).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }

    /// <summary>Ends the held read: everything handed out is consumed, the rest examined or not.</summary>
    private void ReleaseRead(bool examinedAll)
    {
        if (_holdingRead)
        {
            _holdingRead = false;
            _consumed = 0;
            _input.AdvanceTo(_buffered.Start, examinedAll ? _buffered.End : _buffered.Start);
            _buffered = default;
        }
    }

    private ReadOnlySequence<byte>? End()
    {
        _ended = true;
        return null;
    }

    private ConecException Fail(ConecException failure)
    {
        _failure = failure;
        return failure;
    }
}
