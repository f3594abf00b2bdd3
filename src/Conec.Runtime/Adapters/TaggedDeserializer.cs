using Conec.Adapters;
using MessagePack;

namespace Conec;

/// <summary>Reads a tagged broadcast stream as MessagePack values of <typeparamref name="T"/> with their senders.</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class TaggedDeserializer<T> : IAsyncEnumerable<TaggedValue<T>>, IAsyncDisposable
{
    private readonly TaggedBroadcastInStream _inner;
    private readonly MessagePackSerializerOptions _options;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="options"/> defaults to MessagePack's standard options.</summary>
    public TaggedDeserializer(TaggedBroadcastInStream inner, MessagePackSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _options = options ?? MessagePackSerializer.DefaultOptions;
    }

    /// <summary>The next value with its sender, or <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedMessage"/> when a payload is not a <typeparamref name="T"/>, or the inner stream's failure.</exception>
    public async ValueTask<TaggedValue<T>?> ReceiveAsync(CancellationToken cancellationToken = default) =>
        await _inner.ReceiveAsync(cancellationToken) is { } message
            ? new TaggedValue<T>(message.Sender, MessagePackCodec.Deserialize<T>(message.Payload, _options), message.LostBefore)
            : null;

    /// <inheritdoc/>
    public async IAsyncEnumerator<TaggedValue<T>> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await ReceiveAsync(cancellationToken) is { } value)
        {
            yield return value;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
