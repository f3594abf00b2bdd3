using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>The RPC pair: a client implementing the contract over one stream, and a server dispatching to an implementation.</summary>
internal static partial class ContractEmitter
{
    private static void EmitClient(SourceWriter w, ContractModel c, string access)
    {
        w.Line($"/// <summary>");
        w.Line($"/// Calls <see cref=\"{c.InterfaceReference}\"/> on the other end of one stream: many calls may be in flight, a");
        w.Line($"/// handler's exception arrives as <see cref=\"global::Conec.ConecRemoteException\"/>, and cancelling a call cancels the handler.");
        w.Line($"/// </summary>");
        w.Open($"{access} sealed class {c.BaseName}Client : {c.InterfaceReference}, global::System.IAsyncDisposable");
        w.Line($"private readonly {RuntimeNames.RpcClient} _rpc;");
        w.Line();
        w.Line("/// <summary>Calls over <paramref name=\"stream\"/> (for example from <c>NewProxiedStreamAsync</c> or <c>NewStreamAsync</c>).</summary>");
        w.Line("/// <param name=\"stream\">The stream to call over; disposing the client finishes and releases it.</param>");
        w.Line("/// <param name=\"options\">How the client buffers streamed results and queued calls; the defaults when null.</param>");
        w.Line("/// <exception cref=\"global::Conec.ConecException\"><see cref=\"global::Conec.ConecError.InvalidConfiguration\"/> when <paramref name=\"options\"/> is invalid.</exception>");
        w.Open($"public {c.BaseName}Client(global::Conec.StreamPair stream, global::Conec.RpcClientOptions? options = null)");
        w.Line($"_rpc = new {RuntimeNames.RpcClient}(stream.Send, stream.Receive, options);");
        w.Close();
        foreach (var method in c.Methods)
        {
            var names = new ParameterNames(method, "_rpc", c.BaseName + "MethodIds", c.BaseName + "Codec");
            var token = names.Token is { } t ? ", " + t : "";
            var encode = method.Parameters.Count == 0 ? $"{c.BaseName}Codec.NoArguments" : $"{c.BaseName}Codec.Encode{method.Name}({names.Arguments})";
            var decode = $"{c.BaseName}Codec.Decode{method.Name}Result";
            var id = $"{c.BaseName}MethodIds.{method.Name}";
            var call = method.Kind switch
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
        w.Line("/// <summary>Ends the stream: the server stops, and calls still waiting fail.</summary>");
        w.Line($"public {Names.ValueTask} DisposeAsync() => _rpc.DisposeAsync();");
        w.Close();
        w.Line();
    }

    private static void EmitServer(SourceWriter w, ContractModel c, string access)
    {
        // The dispatcher takes the item sink only if a method streams, and the token only if a method takes one.
        var streams = c.Methods.Any(m => m.Kind == MessageKind.Stream);
        var cancels = streams || c.Methods.Any(m => m.CancellationTokenName is not null);
        var (sink, passed) = streams ? ("items", ", items") : ("_", "");
        var (token, passedToken) = cancels ? ("token", ", token") : ("_", "");
        w.Line($"/// <summary>Serves calls to <see cref=\"{c.InterfaceReference}\"/> arriving on one stream, concurrently.</summary>");
        w.Open($"{access} static class {c.BaseName}Server");
        w.Line("/// <summary>Serves until the caller ends the stream or <paramref name=\"cancellationToken\"/> is cancelled.</summary>");
        w.Open($"public static global::System.Threading.Tasks.Task ServeAsync({c.InterfaceReference} implementation, global::Conec.StreamPair stream, {Names.Token} cancellationToken = default)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(implementation);");
        w.Line($"return {RuntimeNames.RpcServer}.ServeAsync(");
        w.Line("    stream.Send,");
        w.Line("    stream.Receive,");
        w.Line($"    (methodId, arguments, {sink}, {token}) => DispatchAsync(implementation, methodId, arguments{passed}{passedToken}),");
        w.Line("    cancellationToken);");
        w.Close();
        w.Line();
        w.Line("/// <summary>Serves calls arriving on an incoming stream.</summary>");
        w.Line($"public static global::System.Threading.Tasks.Task ServeAsync({c.InterfaceReference} implementation, global::Conec.IncomingStream stream, {Names.Token} cancellationToken = default) =>");
        w.Line("    ServeAsync(implementation, new global::Conec.StreamPair(stream.Send, stream.Receive), cancellationToken);");
        w.Line();
        var items = streams ? $", {RuntimeNames.RpcItemSink} items" : "";
        var cancellation = cancels ? $", {Names.Token} cancellationToken" : "";
        w.Open($"private static async {Names.ValueTask}<{RuntimeNames.RpcResult}> DispatchAsync({c.InterfaceReference} implementation, int methodId, {Names.Memory} arguments{items}{cancellation})");
        w.Open("switch (methodId)");
        foreach (var method in c.Methods)
        {
            w.Open($"case {c.BaseName}MethodIds.{method.Name}:");

            // The arguments land in locals named after the parameters, clear of the dispatcher's own names.
            var locals = new ParameterNames(method, "implementation", "methodId", "arguments", "items", "cancellationToken", "result", "item", "_");
            if (method.Parameters.Count == 1)
            {
                w.Line($"var {locals.Values[0]} = {c.BaseName}Codec.Read{method.Name}(arguments);");
            }
            else if (method.Parameters.Count > 1)
            {
                w.Line($"var ({locals.Arguments}) = {c.BaseName}Codec.Read{method.Name}(arguments);");
            }

            var args = locals.Values.Concat(method.CancellationTokenName is null ? [] : Names.TokenArgument);
            var invoke = $"implementation.{method.Name}({string.Join(", ", args)})";
            if (method.Kind == MessageKind.Stream)
            {
                w.Open($"await foreach (var item in global::System.Threading.Tasks.TaskAsyncEnumerableExtensions.WithCancellation({invoke}, cancellationToken).ConfigureAwait(false))");
                w.Line($"await items.SendAsync({c.BaseName}Codec.Encode{method.Name}Result(item)).ConfigureAwait(false);");
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
        w.Line($"    throw {RuntimeNames.TypedMessages}.UnknownMethod(\"{c.InterfaceName}\", methodId);");
        w.Close();
        w.Close();
        w.Close();
    }
}
