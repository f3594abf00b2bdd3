using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>Runs one call: the generated server deserializes the arguments, calls the implementation, serializes the result.</summary>
/// <param name="methodId">The contract method's id.</param>
/// <param name="arguments">The arguments as one MessagePack array.</param>
/// <param name="call">
/// The call: its cancellation (the caller's cancel, the deadline, the stream's end), where a streamed result's items
/// go, and where a streamed argument's items come from.
/// </param>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask<RpcResult> RpcCallHandler(int methodId, ReadOnlyMemory<byte> arguments, RpcServerCall call);
