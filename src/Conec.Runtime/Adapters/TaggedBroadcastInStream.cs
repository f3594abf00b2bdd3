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

    /// <summary>
    /// Reads an <see cref="InStream"/> in place, and without an async state machine while messages are already
    /// buffered, which is most of them under load; anything else goes through the general loop.
    /// </summary>
    private ValueTask<TaggedMessage?> ReceiveCoreAsync(bool lease, CancellationToken cancellationToken)
    {
        if (_inner is not InStream stream)
        {
            return ReceiveFromSourceAsync(cancellationToken);
        }

        long lost = 0;
        while (true)
        {
            var read = stream.ReadSequenceAsync(cancellationToken);
            if (!read.IsCompletedSuccessfully)
            {
                return ReceiveFromStreamAsync(stream, read, lease, lost, cancellationToken);
            }

            if (TryTake(read.Result, lease, ref lost, out var message))
            {
                return new ValueTask<TaggedMessage?>(message);
            }
        }
    }

    private async ValueTask<TaggedMessage?> ReceiveFromStreamAsync(
        InStream stream, ValueTask<ReadOnlySequence<byte>?> pending, bool lease, long lost, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTake(await pending, lease, ref lost, out var message))
            {
                return message;
            }

            pending = stream.ReadSequenceAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Makes one read's message (null at the end of the stream) and returns true, or returns false for a loss
    /// notice, whose count joins <paramref name="lost"/> for the next message.
    /// </summary>
    private bool TryTake(ReadOnlySequence<byte>? sequence, bool lease, ref long lost, out TaggedMessage? message)
    {
        message = null;
        if (sequence is not { } read)
        {
            return true;
        }

        var payload = BroadcastTag.Parse(lease ? Lend(read) : read.ToArray(), _senders, out var sender, out var notified);
        lost += notified;
        if (notified != 0)
        {
            return false;
        }

        message = new TaggedMessage(sender!, payload, lost);
        return true;
    }

    private async ValueTask<TaggedMessage?> ReceiveFromSourceAsync(CancellationToken cancellationToken)
    {
        long lost = 0;
        while (await _inner.ReceiveAsync(cancellationToken) is { } received)
        {
            lost += received.LostBefore;
            var payload = BroadcastTag.Parse(received.Payload, _senders, out var sender, out var notified);
            lost += notified;
            if (notified == 0)
            {
                return new TaggedMessage(sender!, payload, lost);
            }
        }

        return null;
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

    /// <summary>
    /// Every message, each payload lent as by <see cref="ReceiveLeasedAsync"/>: valid until the loop asks for the
    /// next one. For a loop that handles each message before it moves on; keep a payload longer by copying it.
    /// </summary>
    public async IAsyncEnumerable<TaggedMessage> ReadAllLeasedAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReceiveLeasedAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
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
