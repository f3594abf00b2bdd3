namespace Conec.Generators;

/// <summary>
/// The runtime types that generated code calls but users never name, written as generated code writes them: the one
/// place that knows they live in <c>Conec.Typed.Internal</c> (docs/architecture.md, "The house: the public surface").
/// </summary>
internal static class RuntimeNames
{
    public const string Namespace = "global::Conec.Typed.Internal";
    public const string TypedMessages = Namespace + ".TypedMessages";
    public const string RpcClient = Namespace + ".RpcClient";
    public const string RpcServer = Namespace + ".RpcServer";
    public const string RpcServerCall = Namespace + ".RpcServerCall";
    public const string RpcContract = Namespace + ".RpcContract";
    public const string RpcResult = Namespace + ".RpcResult";
}
