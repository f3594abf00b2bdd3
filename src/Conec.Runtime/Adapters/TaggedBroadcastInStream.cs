using System.Buffers;
using Conec.Protocol;

namespace Conec;

/// <summary>
/// Reads a broadcast stream and yields each message with its sender's authenticated id. The coordinator's loss
/// notices become <see cref="TaggedMessage.LostBefore"/> of the next message. A sender's id is decoded once and
/// the same string returned for its later messages. One reader at a time.
/// </summary>
public sealed class TaggedBroadcastInStream : IAsyncEnumerable<TaggedMessage>, IAsyncDisposable
{
    private readonly IMessageSource _inner;
    private readonly SenderIdCache _senders = new();
    private byte[] _lent = [];

    /// <summary>Wraps a broadcast reader (an <see cref="InStream"/> from <c>NewBroadcastAsync</c>, or an adapter over it).</summary>
    public TaggedBroadcastInStream(IMessageSource inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>The wrapped source, to re-wrap it differently.</summary>
    public IMessageSource Inner => _inner;

    /// <summary>The next message with its sender, or <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedTag"/> for a tag that does not parse or an id that is not UTF-8, or the inner stream's failure.</exception>
    public ValueTask<TaggedMessage?> ReceiveAsync(CancellationToken cancellationToken = default) => ReceiveCoreAsync(lease: false, cancellationToken);

    /// <summary>
    /// As <see cref="ReceiveAsync"/>, but the payload is lent, not copied: it is valid only until the next call to
    /// either receive method or disposal. For a reader that decodes or copies each payload before asking for the
    /// next (as the generated typed broadcast readers do): it then costs no allocation per message.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedTag"/> for a tag that does not parse or an id that is not UTF-8, or the inner stream's failure.</exception>
    public ValueTask<TaggedMessage?> ReceiveLeasedAsync(CancellationToken cancellationToken = default) => ReceiveCoreAsync(lease: true, cancellationToken);

    private async ValueTask<TaggedMessage?> ReceiveCoreAsync(bool lease, CancellationToken cancellationToken)
    {
        long lost = 0;
        while (true)
        {
            ReadOnlyMemory<byte> message;
            if (_inner is InStream stream)
            {
                // Read the stream's own buffer: one copy at most (none when lent), no per-message wrapper.
                if (await stream.ReadSequenceAsync(cancellationToken) is not { } sequence)
                {
                    return null;
                }

                message = lease ? Lend(sequence) : sequence.ToArray();
            }
            else if (await _inner.ReceiveAsync(cancellationToken) is { } received)
            {
                lost += received.LostBefore;
                message = received.Payload;
            }
            else
            {
                return null;
            }

            var payload = BroadcastTag.Parse(message, _senders, out var sender, out var notified);
            lost += notified;
            if (notified == 0)
            {
                return new TaggedMessage(sender!, payload, lost);
            }
        }
    }

    /// <summary>The message where the stream holds it when it is one piece, else copied into a buffer this reader reuses.</summary>
    private ReadOnlyMemory<byte> Lend(ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            return message.First;
        }

        var length = (int)message.Length;
        if (_lent.Length < length)
        {
            _lent = new byte[Math.Max(length, _lent.Length * 2)];
        }

        message.CopyTo(_lent);
        return _lent.AsMemory(0, length);
    }

    /// <inheritdoc/>
    public async IAsyncEnumerator<TaggedMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await ReceiveAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
