namespace Conec.Typed.Internal;

/// <summary>The caller's view of one call, made only when client filters are registered.</summary>
internal sealed class RpcClientCallContext(RpcContract contract, int methodId, DateTimeOffset? deadline, CancellationToken cancellationToken)
    : RpcCallContext(contract, methodId, null, deadline)
{
    public override bool IsServer => false;

    public override CancellationToken CancellationToken => cancellationToken;
}
