using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>Where a generated server writes the items of a streamed (<see cref="IAsyncEnumerable{T}"/>) result, in order.</summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcItemSink
{
    private readonly Func<ReadOnlyMemory<byte>, ValueTask> _send;

    internal RpcItemSink(Func<ReadOnlyMemory<byte>, ValueTask> send) => _send = send;

    /// <summary>Sends one item, already serialized as one MessagePack value; waits while the stream applies back-pressure.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> serialized) => _send(serialized);
}
