using Conec.Adapters;
using MessagePack;

namespace Conec;

/// <summary>Reads a stream of MessagePack values of <typeparamref name="T"/> (conec's typed reader, with MessagePack for bincode).</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class MessagePackInStream<T> : IAsyncEnumerable<T>, IAsyncDisposable
{
    private readonly IMessageSource _inner;
    private readonly MessagePackSerializerOptions _options;

    /// <summary>Wraps any source (an <see cref="InStream"/>, a <see cref="NonblockingInStream"/>, a <see cref="TaglessBroadcastInStream"/>).</summary>
    public MessagePackInStream(IMessageSource inner, MessagePackSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _options = options ?? MessagePackSerializer.DefaultOptions;
    }

    /// <summary>The next value and the losses before it, or <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedMessage"/> when a payload is not a <typeparamref name="T"/>, or the inner stream's failure.</exception>
    public async ValueTask<ReceivedValue<T>?> ReceiveAsync(CancellationToken cancellationToken = default) =>
        await _inner.ReceiveAsync(cancellationToken) is { } message
            ? new ReceivedValue<T>(MessagePackCodec.Deserialize<T>(message.Payload, _options), message.LostBefore)
            : null;

    /// <inheritdoc/>
    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await ReceiveAsync(cancellationToken) is { } received)
        {
            yield return received.Value;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
