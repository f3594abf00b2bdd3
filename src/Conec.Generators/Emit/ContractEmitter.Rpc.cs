using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>The RPC pair: a client implementing the contract over one stream, and a server dispatching to an implementation.</summary>
internal static partial class ContractEmitter
{
    private static void EmitClient(SourceWriter w, ContractModel c, string access)
    {
        var client = c.BaseName + "Client";
        w.Line($"/// <summary>");
        w.Line($"/// Calls <see cref=\"{c.InterfaceReference}\"/> on the other end of one stream: many calls may be in flight, a");
        w.Line($"/// handler's exception arrives as <see cref=\"global::Conec.ConecRemoteException\"/>, and cancelling a call cancels the handler.");
        w.Line($"/// </summary>");
        w.Open($"{access} sealed class {client} : {c.InterfaceReference}, global::System.IAsyncDisposable");
        w.Line($"private readonly {RuntimeNames.RpcClient} _rpc;");
        w.Line();
        w.Line("/// <summary>Calls over <paramref name=\"stream\"/> (for example from <c>NewProxiedStreamAsync</c> or <c>NewStreamAsync</c>).</summary>");
        w.Line("/// <param name=\"stream\">The stream to call over; disposing the client finishes and releases it.</param>");
        w.Line("/// <param name=\"options\">How the client buffers, its default deadline and its filters; the defaults when null.</param>");
        w.Line("/// <exception cref=\"global::Conec.ConecException\"><see cref=\"global::Conec.ConecError.InvalidConfiguration\"/> when <paramref name=\"options\"/> is invalid.</exception>");
        w.Open($"public {client}(global::Conec.StreamPair stream, global::Conec.RpcClientOptions? options = null)");
        w.Line($"_rpc = new {RuntimeNames.RpcClient}(stream.Send, stream.Receive, options, {c.BaseName}Codec.Contract);");
        w.Close();
        w.Line();
        w.Open($"private {client}({RuntimeNames.RpcClient} rpc)");
        w.Line("_rpc = rpc;");
        w.Close();
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// A client on the same stream whose calls must finish by <paramref name=\"deadline\"/>: the time left travels with");
        w.Line("/// each call, and a call still running then fails with <see cref=\"global::Conec.ConecError.DeadlineExceeded\"/>.");
        w.Line("/// </summary>");
        w.Line($"public {client} WithDeadline(global::System.DateTimeOffset deadline) => new {client}(_rpc.WithDeadline(deadline));");
        w.Line();
        w.Line("/// <summary>A client on the same stream whose calls may each take <paramref name=\"timeout\"/> from when they are made.</summary>");
        w.Line($"public {client} WithTimeout(global::System.TimeSpan timeout) => new {client}(_rpc.WithTimeout(timeout));");
        foreach (var method in c.Methods)
        {
            var names = new ParameterNames(method, "_rpc", c.BaseName + "MethodIds", c.BaseName + "Codec");
            var token = names.Token is { } t ? ", " + t : "";
            var encode = method.Parameters.Count == 0 ? $"{c.BaseName}Codec.NoArguments" : $"{c.BaseName}Codec.Encode{method.Name}({names.Arguments})";
            var decode = $"{c.BaseName}Codec.Decode{method.Name}Result";
            var id = $"{c.BaseName}MethodIds.{method.Name}";
            var call = method.Streamed is { } streamed
                ? StreamingCall(method, id, encode, names.Streamed!, $"{c.BaseName}Codec.Encode{method.Name}Item", decode, names.Token ?? "default")
                : method.Kind switch
                {
                    MessageKind.OneWay => $"_rpc.NotifyAsync({id}, {encode}{token})",
                    MessageKind.Call => $"_rpc.CallAsync({id}, {encode}{token})",
                    MessageKind.Stream => $"_rpc.StreamAsync<{method.ResultType}>({id}, {encode}, {decode}{token})",
                    _ => $"_rpc.CallAsync<{method.ResultType}>({id}, {encode}, {decode}{token})",
                };
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line($"public {Names.ReturnType(method)} {method.Name}({names.Declarations(true)}) =>");
            w.Line($"    {call}{(method.ReturnsTask && method.Kind != MessageKind.Stream ? ".AsTask()" : "")};");
        }

        w.Line();
        w.Line("/// <summary>Ends the stream: the server stops, and calls still waiting fail (on this client and those made from it).</summary>");
        w.Line($"public {Names.ValueTask} DisposeAsync() => _rpc.DisposeAsync();");
        w.Close();
        w.Line();
    }

    /// <summary>A call whose caller streams an argument: client streaming, or both ways when the result streams too.</summary>
    private static string StreamingCall(MethodModel method, string id, string encode, string items, string encodeItem, string decode, string token)
    {
        var item = method.Streamed!.ItemType;
        return method.Kind switch
        {
            MessageKind.Stream => $"_rpc.DuplexAsync<{item}, {method.ResultType}>({id}, {encode}, {items}, {encodeItem}, {decode}, {token})",
            MessageKind.CallWithResult => $"_rpc.CallStreamingAsync<{item}, {method.ResultType}>({id}, {encode}, {items}, {encodeItem}, {decode}, {token})",
            _ => $"_rpc.CallStreamingAsync<{item}>({id}, {encode}, {items}, {encodeItem}, {token})",
        };
    }

    private static void EmitServer(SourceWriter w, ContractModel c, string access)
    {
        // The handler takes the call only if a method streams or takes a token: the call carries both.
        var usesCall = c.Methods.Any(m => m.Kind == MessageKind.Stream || m.Streamed is not null || m.CancellationTokenName is not null);
        var (callParameter, passed) = usesCall ? ("call", ", call") : ("_", "");
        var implementation = c.InterfaceReference;
        w.Line($"/// <summary>Serves calls to <see cref=\"{implementation}\"/> arriving on one stream, concurrently.</summary>");
        w.Open($"{access} static class {c.BaseName}Server");
        w.Line("/// <summary>Serves until the caller ends the stream or <paramref name=\"cancellationToken\"/> is cancelled.</summary>");
        w.Line($"public static global::System.Threading.Tasks.Task ServeAsync({implementation} implementation, global::Conec.StreamPair stream, {Names.Token} cancellationToken = default) =>");
        w.Line("    ServeAsync(implementation, stream.Send, stream.Receive, null, null, cancellationToken);");
        w.Line();
        w.Line("/// <summary>Serves calls arriving on an incoming stream; call contexts name its opener as the caller.</summary>");
        w.Line($"public static global::System.Threading.Tasks.Task ServeAsync({implementation} implementation, global::Conec.IncomingStream stream, {Names.Token} cancellationToken = default) =>");
        w.Line("    ServeAsync(implementation, stream.Send, stream.Receive, stream.Peer, null, cancellationToken);");
        w.Line();
        w.Line("/// <summary>Serves with <paramref name=\"options\"/>: the filters every call passes through.</summary>");
        w.Line("/// <exception cref=\"global::Conec.ConecException\"><see cref=\"global::Conec.ConecError.InvalidConfiguration\"/> when <paramref name=\"options\"/> is invalid.</exception>");
        w.Line($"public static global::System.Threading.Tasks.Task ServeAsync({implementation} implementation, global::Conec.StreamPair stream, global::Conec.RpcServerOptions options, {Names.Token} cancellationToken = default) =>");
        w.Line("    ServeAsync(implementation, stream.Send, stream.Receive, null, options, cancellationToken);");
        w.Line();
        w.Line("/// <summary>Serves an incoming stream with <paramref name=\"options\"/>: the filters every call passes through.</summary>");
        w.Line("/// <exception cref=\"global::Conec.ConecException\"><see cref=\"global::Conec.ConecError.InvalidConfiguration\"/> when <paramref name=\"options\"/> is invalid.</exception>");
        w.Line($"public static global::System.Threading.Tasks.Task ServeAsync({implementation} implementation, global::Conec.IncomingStream stream, global::Conec.RpcServerOptions options, {Names.Token} cancellationToken = default) =>");
        w.Line("    ServeAsync(implementation, stream.Send, stream.Receive, stream.Peer, options, cancellationToken);");
        w.Line();
        w.Open($"private static global::System.Threading.Tasks.Task ServeAsync({implementation} implementation, global::Conec.OutStream send, global::Conec.InStream receive, string? peer, global::Conec.RpcServerOptions? options, {Names.Token} cancellationToken)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(implementation);");
        w.Line($"return {RuntimeNames.RpcServer}.ServeAsync(");
        w.Line("    send,");
        w.Line("    receive,");
        w.Line($"    {c.BaseName}Codec.Contract,");
        w.Line($"    (methodId, arguments, {callParameter}) => DispatchAsync(implementation, methodId, arguments{passed}),");
        w.Line("    peer,");
        w.Line("    options,");
        w.Line("    cancellationToken);");
        w.Close();
        w.Line();
        var callDeclaration = usesCall ? $", {RuntimeNames.RpcServerCall} call" : "";
        w.Open($"private static async {Names.ValueTask}<{RuntimeNames.RpcResult}> DispatchAsync({implementation} implementation, int methodId, {Names.Memory} arguments{callDeclaration})");
        w.Open("switch (methodId)");
        foreach (var method in c.Methods)
        {
            w.Open($"case {c.BaseName}MethodIds.{method.Name}:");

            // The arguments land in locals named after the parameters, clear of the dispatcher's own names.
            var locals = new ParameterNames(method, "implementation", "methodId", "arguments", "call", "result", "item", "_");
            if (method.Parameters.Count == 1)
            {
                w.Line($"var {locals.Values[0]} = {c.BaseName}Codec.Read{method.Name}(arguments);");
            }
            else if (method.Parameters.Count > 1)
            {
                w.Line($"var ({locals.Arguments}) = {c.BaseName}Codec.Read{method.Name}(arguments);");
            }

            var streamed = method.Streamed is null ? null : $"call.ReadArgumentAsync({c.BaseName}Codec.Decode{method.Name}Item)";
            var args = locals.InDeclarationOrder(locals.Values, streamed)
                .Concat(method.CancellationTokenName is null ? [] : ["call.CancellationToken"]);
            var invoke = $"implementation.{method.Name}({string.Join(", ", args)})";
            if (method.Kind == MessageKind.Stream)
            {
                w.Open($"await foreach (var item in global::System.Threading.Tasks.TaskAsyncEnumerableExtensions.WithCancellation({invoke}, call.CancellationToken).ConfigureAwait(false))");
                w.Line($"await call.SendItemAsync({c.BaseName}Codec.Encode{method.Name}Result(item)).ConfigureAwait(false);");
                w.Close();
                w.Line();
                w.Line($"return {RuntimeNames.RpcResult}.Void;");
            }
            else if (method.Kind == MessageKind.CallWithResult)
            {
                w.Line($"var result = await {invoke}.ConfigureAwait(false);");
                w.Line($"return {RuntimeNames.RpcResult}.FromSerialized({c.BaseName}Codec.Encode{method.Name}Result(result));");
            }
            else
            {
                w.Line($"await {invoke}.ConfigureAwait(false);");
                w.Line($"return {RuntimeNames.RpcResult}.Void;");
            }

            w.Close();
        }

        w.Line("default:");
        w.Line($"    throw {RuntimeNames.TypedMessages}.UnknownCall(\"{c.InterfaceName}\", methodId);");
        w.Close();
        w.Close();
        w.Close();
    }
}
