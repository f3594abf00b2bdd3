using System.Runtime.CompilerServices;
using Conec.Protocol;

namespace Conec;

/// <summary>
/// Reads a broadcast stream and yields each message with its sender's authenticated id. The coordinator's loss
/// notices become <see cref="TaggedMessage.LostBefore"/> of the next message.
/// </summary>
public sealed class TaggedBroadcastInStream : IAsyncEnumerable<TaggedMessage>, IAsyncDisposable
{
    private readonly IMessageSource _inner;

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
    public async ValueTask<TaggedMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        long lost = 0;
        while (await _inner.ReceiveAsync(cancellationToken) is { } message)
        {
            var payload = BroadcastTag.Parse(message.Payload, decodeSender: true, out var sender, out var notified);
            lost += message.LostBefore + notified;
            if (notified == 0)
            {
                return new TaggedMessage(sender!, payload, lost);
            }
        }

        return null;
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
