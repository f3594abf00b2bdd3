using MessagePack;

namespace Conec;

/// <summary>Where a generated server writes the items of a streamed (<see cref="IAsyncEnumerable{T}"/>) result, in order.</summary>
public sealed class RpcItemSink
{
    private readonly Func<ReadOnlyMemory<byte>, ValueTask> _send;

    internal RpcItemSink(Func<ReadOnlyMemory<byte>, ValueTask> send) => _send = send;

    /// <summary>Serializes and sends one item; waits while the stream applies back-pressure.</summary>
    public ValueTask SendAsync<T>(T value, MessagePackSerializerOptions options) => _send(MessagePackSerializer.Serialize(value, options));
}
