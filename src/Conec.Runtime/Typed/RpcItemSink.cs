namespace Conec;

/// <summary>Where a generated server writes the items of a streamed (<see cref="IAsyncEnumerable{T}"/>) result, in order.</summary>
public sealed class RpcItemSink
{
    private readonly Func<ReadOnlyMemory<byte>, ValueTask> _send;

    internal RpcItemSink(Func<ReadOnlyMemory<byte>, ValueTask> send) => _send = send;

    /// <summary>Sends one item, already serialized as one MessagePack value; waits while the stream applies back-pressure.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> serialized) => _send(serialized);
}
