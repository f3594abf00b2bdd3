using Conec.Protocol;

namespace Conec;

/// <summary>
/// Reads a broadcast stream and yields each message without its sender tag. The coordinator's loss notices
/// (under <see cref="SlowReceiverPolicy.DropOldest"/>) become <see cref="ReceivedMessage.LostBefore"/> of the next message.
/// </summary>
public sealed class TaglessBroadcastInStream : IMessageSource, IAsyncEnumerable<ReceivedMessage>
{
    private readonly IMessageSource _inner;

    /// <summary>Wraps a broadcast reader (an <see cref="InStream"/> from <c>NewBroadcastAsync</c>, or an adapter over it).</summary>
    public TaglessBroadcastInStream(IMessageSource inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>The wrapped source, to re-wrap it differently.</summary>
    public IMessageSource Inner => _inner;

    /// <inheritdoc/>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedTag"/> for a message whose tag does not parse, or the inner stream's failure.</exception>
    public async ValueTask<ReceivedMessage?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        long lost = 0;
        while (await _inner.ReceiveAsync(cancellationToken) is { } message)
        {
            var payload = BroadcastTag.Parse(message.Payload, decodeSender: false, out _, out var notified);
            lost += message.LostBefore + notified;
            if (notified == 0)
            {
                return new ReceivedMessage(payload, lost);
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public IAsyncEnumerator<ReceivedMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        this.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
