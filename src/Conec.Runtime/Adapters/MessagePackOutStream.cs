using System.Buffers;
using Conec.Adapters;
using MessagePack;

namespace Conec;

/// <summary>Sends MessagePack values of <typeparamref name="T"/>, one message each, over an <see cref="OutStream"/>.</summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class MessagePackOutStream<T> : IAsyncDisposable
{
    private readonly OutStream _inner;
    private readonly MessagePackSerializerOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="options"/> defaults to MessagePack's standard options.</summary>
    public MessagePackOutStream(OutStream inner, MessagePackSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _options = options ?? MessagePackSerializer.DefaultOptions;
    }

    /// <summary>The wrapped stream (to finish or abort it).</summary>
    public OutStream Inner => _inner;

    /// <summary>Serializes <paramref name="value"/> and sends it as one message. Sends must not overlap.</summary>
    public async ValueTask SendAsync(T value, CancellationToken cancellationToken = default)
    {
        // One reused buffer: sends do not overlap, so steady-state sending allocates nothing per message.
        _buffer.ResetWrittenCount();
        MessagePackCodec.Serialize(_buffer, value, _options);
        await _inner.SendAsync(_buffer.WrittenMemory, cancellationToken);
    }

    /// <summary>Finishes the stream: the reader gets every value sent, then the end.</summary>
    public ValueTask FinishAsync(CancellationToken cancellationToken = default) => _inner.FinishAsync(cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
