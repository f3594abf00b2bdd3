using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>Runs one call: the generated server deserializes the arguments, calls the implementation, serializes the result.</summary>
/// <param name="methodId">The contract method's id.</param>
/// <param name="arguments">The arguments as one MessagePack array.</param>
/// <param name="items">Where a streamed result's items go, before the dispatcher returns.</param>
/// <param name="cancellationToken">Cancelled when the caller cancels the call or the stream ends.</param>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask<RpcResult> RpcDispatcher(int methodId, ReadOnlyMemory<byte> arguments, RpcItemSink items, CancellationToken cancellationToken);
