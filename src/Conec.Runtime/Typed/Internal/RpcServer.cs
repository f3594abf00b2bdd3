using System.ComponentModel;

namespace Conec.Typed.Internal;

/// <summary>
/// The serving end of an RPC stream, used by generated servers: calls run concurrently, a cancellation from the
/// caller or the call's deadline cancels its handler, streamed results and arguments move under per-call credit,
/// filters run around each call, and a handler's exception goes back as its type and message.
/// </summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RpcServer
{
    /// <summary>
    /// Serves calls arriving on <paramref name="receive"/> until the caller finishes the stream.
    /// <paramref name="peer"/> is the caller's authenticated id, as call contexts report it.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/> when <paramref name="options"/> is invalid.</exception>
    public static Task ServeAsync(OutStream send, InStream receive, RpcContract contract, RpcCallHandler handler, string? peer,
        RpcServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        ArgumentNullException.ThrowIfNull(contract);
        ArgumentNullException.ThrowIfNull(handler);
        options?.Validate();
        return RpcServerSession.RunAsync(send, receive, contract, handler, peer, options?.Filters.ToArray() ?? [], cancellationToken);
    }
}
