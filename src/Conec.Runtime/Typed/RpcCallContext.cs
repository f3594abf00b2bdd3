using Conec.Typed.Internal;

namespace Conec;

/// <summary>
/// One RPC call as filters and handlers see it: which method, who calls, until when. On the server, a handler reads
/// its own call's context from <see cref="Current"/>; filters get it as their argument.
/// </summary>
public abstract class RpcCallContext
{
    // Flows from the server's call loop into the handler it runs; set once per call, and only on the server.
    private static readonly AsyncLocal<RpcCallContext?> CurrentCall = new();

    private readonly RpcContract _contract;

    private protected RpcCallContext(RpcContract contract, int methodId, string? peer, DateTimeOffset? deadline)
    {
        _contract = contract;
        MethodId = methodId;
        Peer = peer;
        Deadline = deadline;
    }

    /// <summary>The context of the call the current server handler (or server filter) runs for; null outside one.</summary>
    public static RpcCallContext? Current => CurrentCall.Value;

    /// <summary>The contract's full name, as declared (<c>Demo.Chat.IChat</c>).</summary>
    public string Contract => _contract.Name;

    /// <summary>The called method's name, or its id in digits when this side's contract does not have it.</summary>
    public string Method => _contract.NameOf(MethodId) ?? MethodId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The called method's wire id.</summary>
    public int MethodId { get; }

    /// <summary>
    /// On the server, the caller's client id as the coordinator authenticated it (null when the coordinator itself
    /// calls, or when the stream was served as a bare <see cref="StreamPair"/>); in a client filter, null.
    /// </summary>
    public string? Peer { get; }

    /// <summary>When the call must have finished, if the caller set a deadline; the server's value is its own clock's.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Whether this is the serving side's view of the call (a server filter or handler), not the caller's.</summary>
    public abstract bool IsServer { get; }

    /// <summary>
    /// Cancelled when the call ends early: on the server when the caller cancels, the deadline passes or the stream
    /// ends; on the client when the caller's token is cancelled.
    /// </summary>
    public abstract CancellationToken CancellationToken { get; }

    internal static void SetCurrent(RpcCallContext? context) => CurrentCall.Value = context;
}
