using System.Linq;
using Conec.Generators.Model;

namespace Conec.Generators.Emit;

/// <summary>The receiving side: the message union, the receiver and dispatcher, and the typed broadcast reader.</summary>
internal static partial class ContractEmitter
{
    private static void EmitUnion(SourceWriter w, ContractModel c, MethodModel[] oneWay, string access)
    {
        w.Line($"/// <summary>One message of <see cref=\"{c.InterfaceReference}\"/>: a closed union with one record per one-way method.</summary>");
        w.Open($"{access} abstract record {c.BaseName}Message");
        w.Line($"private {c.BaseName}Message()");
        w.Line("{");
        w.Line("}");
        foreach (var method in oneWay)
        {
            var fields = method.Parameters.Zip(Names.Properties(c, method), (p, property) => $"{p.Type} {property}").ToArray();
            w.Line();
            w.Line($"/// <summary>A <c>{method.Name}</c> message.</summary>");
            if (fields.Length == 0)
            {
                w.Line($"public sealed record {method.Name} : {c.BaseName}Message;");
            }
            else
            {
                w.List($"public sealed record {method.Name}(", fields, $") : {c.BaseName}Message;");
            }
        }

        w.Close();
        w.Line();
    }

    private static void EmitReceiver(SourceWriter w, ContractModel c, MethodModel[] oneWay, string access)
    {
        var message = $"{c.BaseName}Message";
        w.Line($"/// <summary>Reads <see cref=\"{c.InterfaceReference}\"/> messages from a stream, as <see cref=\"{message}\"/> values or by dispatching them.</summary>");
        w.Open($"{access} sealed class {c.BaseName}Receiver : global::System.Collections.Generic.IAsyncEnumerable<{message}>, global::System.IAsyncDisposable");
        w.Line("private readonly global::Conec.IMessageSource _source;");
        w.Line();
        w.Line("/// <summary>Reads from <paramref name=\"source\"/> (an <see cref=\"global::Conec.InStream\"/> or an adapter over one).</summary>");
        w.Open($"public {c.BaseName}Receiver(global::Conec.IMessageSource source)");
        w.Line("_source = source ?? throw new global::System.ArgumentNullException(nameof(source));");
        w.Close();
        w.Line();
        w.Line("/// <summary>The next message, or <see langword=\"null\"/> at the end of the stream.</summary>");
        w.Open($"public async {Names.ValueTask}<{message}?> ReceiveAsync({Names.Token} cancellationToken = default)");
        w.Open("if (_source is global::Conec.InStream stream)");
        w.Line("// Decoded in place from the stream's buffer: no copy of the message.");
        w.Line("var borrowed = await stream.ReadSequenceAsync(cancellationToken).ConfigureAwait(false);");
        w.Line("return borrowed is { } sequence ? Decode(sequence) : null;");
        w.Close();
        w.Line();
        w.Line("var received = await _source.ReceiveAsync(cancellationToken).ConfigureAwait(false);");
        w.Line("return received is { } m ? Decode(m.Payload) : null;");
        w.Close();
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open($"public async global::System.Collections.Generic.IAsyncEnumerator<{message}> GetAsyncEnumerator({Names.Token} cancellationToken = default)");
        w.Open("while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)");
        w.Line("yield return message;");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"/// <summary>Calls <paramref name=\"handler\"/> for every message until the end of the stream.</summary>");
        w.Open($"public async global::System.Threading.Tasks.Task DispatchAsync({c.InterfaceReference} handler, {Names.Token} cancellationToken = default)");
        w.Open("while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } message)");
        w.Line("await InvokeAsync(handler, message, cancellationToken).ConfigureAwait(false);");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Calls the method of <paramref name=\"handler\"/> that <paramref name=\"message\"/> stands for.</summary>");
        w.Open($"public static {Names.ValueTask} InvokeAsync({c.InterfaceReference} handler, {message} message, {Names.Token} cancellationToken = default) => message switch");
        foreach (var method in oneWay)
        {
            var args = Names.Properties(c, method).Select(property => "m." + property)
                .Concat(method.CancellationTokenName is null ? Enumerable.Empty<string>() : Names.TokenArgument);
            var call = $"handler.{method.Name}({string.Join(", ", args)})";
            w.Line($"{message}.{method.Name}{Matched(method)} => {(method.ReturnsTask ? $"new {Names.ValueTask}({call})" : call)},");
        }

        w.Line($"_ => throw new global::System.ArgumentException(\"Not a message of {c.InterfaceName}.\", nameof(message)),");
        w.Close(";");
        w.Line();
        w.Line("/// <summary>Decodes one message; a message that does not match the contract is a <see cref=\"global::Conec.ConecException\"/>.</summary>");
        w.Line($"public static {message} Decode({Names.Memory} payload) =>");
        w.Line("    Decode(new global::System.Buffers.ReadOnlySequence<byte>(payload));");
        w.Line();
        w.Line("/// <summary>Decodes one message from a (possibly segmented) buffer.</summary>");
        w.Open($"public static {message} Decode(global::System.Buffers.ReadOnlySequence<byte> payload)");
        w.Open("try");
        w.Line("var reader = new global::MessagePack.MessagePackReader(payload);");
        w.Line($"var methodId = {RuntimeNames.TypedMessages}.ReadMethodId(ref reader, out _);");
        w.Open("switch (methodId)");
        foreach (var method in oneWay)
        {
            w.Line($"case {c.BaseName}MethodIds.{method.Name}:");
            w.Indent().List($"return new {message}.{method.Name}(", method.Parameters.Select(p => p.Codec.Read).ToArray(), ");").Outdent();
        }

        w.Line("default:");
        w.Line($"    throw {RuntimeNames.TypedMessages}.UnknownMethod(\"{c.InterfaceName}\", methodId);");
        w.Close();
        w.Close();
        w.Open($"catch (global::System.Exception e) when ({RuntimeNames.TypedMessages}.IsMalformed(e))");
        w.Line($"throw {RuntimeNames.TypedMessages}.Malformed(e);");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Disposes the source stream.</summary>");
        w.Line($"public {Names.ValueTask} DisposeAsync() => _source.DisposeAsync();");
        w.Close();
        w.Line();
    }

    private static void EmitBroadcast(SourceWriter w, ContractModel c, MethodModel[] oneWay, string access)
    {
        var message = $"{c.BaseName}Message";
        var handler = $"I{c.BaseName}BroadcastHandler";
        w.Line($"/// <summary>Handles <see cref=\"{c.InterfaceReference}\"/> messages from a broadcast, each with its sender's authenticated id.</summary>");
        w.Open($"{access} interface {handler}");
        foreach (var method in oneWay)
        {
            var parameters = new System.Collections.Generic.HashSet<string>(method.Parameters.Select(p => p.Name));
            var sender = parameters.Contains("sender") ? Names.Unique("fromClient", parameters) : "sender";
            w.Line($"/// <summary>A <c>{method.Name}</c> message from client <paramref name=\"{sender}\"/>.</summary>");
            w.Line($"{Names.ValueTask} {method.Name}(string {sender}{Prefix(new ParameterNames(method).Declarations(false))});");
            if (method != oneWay.Last())
            {
                w.Line();
            }
        }

        w.Close();
        w.Line();
        w.Line($"/// <summary>Reads a broadcast of <see cref=\"{c.InterfaceReference}\"/> messages as (sender id, message) pairs.</summary>");
        w.Open($"{access} sealed class {c.BaseName}BroadcastReader : global::System.Collections.Generic.IAsyncEnumerable<(string Sender, {message} Message)>, global::System.IAsyncDisposable");
        w.Line("private readonly global::Conec.TaggedBroadcastInStream _source;");
        w.Line();
        w.Line("/// <summary>Reads the broadcast reader <paramref name=\"broadcast\"/> (from <c>NewBroadcastAsync</c>, or an adapter over it).</summary>");
        w.Open($"public {c.BaseName}BroadcastReader(global::Conec.IMessageSource broadcast)");
        w.Line("_source = new global::Conec.TaggedBroadcastInStream(broadcast ?? throw new global::System.ArgumentNullException(nameof(broadcast)));");
        w.Close();
        w.Line();
        w.Line("/// <summary>Messages the coordinator dropped for this reader so far (only under <see cref=\"global::Conec.SlowReceiverPolicy.DropOldest\"/>).</summary>");
        w.Line("public long Lost { get; private set; }");
        w.Line();
        w.Line("/// <summary>The next message with its sender, or <see langword=\"null\"/> at the end of the broadcast.</summary>");
        w.Open($"public async {Names.ValueTask}<(string Sender, {message} Message)?> ReceiveAsync({Names.Token} cancellationToken = default)");
        w.Line("// The payload is lent until the next receive: it is decoded before then, so nothing is copied.");
        w.Open("if (await _source.ReceiveLeasedAsync(cancellationToken).ConfigureAwait(false) is not { } tagged)");
        w.Line("return null;");
        w.Close();
        w.Line();
        w.Line("Lost += tagged.LostBefore;");
        w.Line($"return (tagged.Sender, {c.BaseName}Receiver.Decode(tagged.Payload));");
        w.Close();
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open($"public async global::System.Collections.Generic.IAsyncEnumerator<(string Sender, {message} Message)> GetAsyncEnumerator({Names.Token} cancellationToken = default)");
        w.Open("while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } item)");
        w.Line("yield return item;");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Calls <paramref name=\"handler\"/> with each message and its sender until the broadcast ends.</summary>");
        w.Open($"public async global::System.Threading.Tasks.Task DispatchAsync({handler} handler, {Names.Token} cancellationToken = default)");
        w.Open("while (await ReceiveAsync(cancellationToken).ConfigureAwait(false) is { } item)");
        w.Line("await InvokeAsync(handler, item.Sender, item.Message).ConfigureAwait(false);");
        w.Close();
        w.Close();
        w.Line();
        w.Line("/// <summary>Calls the method of <paramref name=\"handler\"/> that <paramref name=\"message\"/> stands for.</summary>");
        w.Open($"public static {Names.ValueTask} InvokeAsync({handler} handler, string sender, {message} message) => message switch");
        foreach (var method in oneWay)
        {
            var args = Names.Properties(c, method).Select(property => "m." + property).Prepend("sender");
            w.Line($"{message}.{method.Name}{Matched(method)} => handler.{method.Name}({string.Join(", ", args)}),");
        }

        w.Line($"_ => throw new global::System.ArgumentException(\"Not a message of {c.InterfaceName}.\", nameof(message)),");
        w.Close(";");
        w.Line();
        w.Line("/// <summary>Disposes the broadcast reader.</summary>");
        w.Line($"public {Names.ValueTask} DisposeAsync() => _source.DisposeAsync();");
        w.Close();
        w.Line();
    }

    /// <summary>The variable a switch arm binds the message to, when the call reads its properties.</summary>
    private static string Matched(MethodModel method) => method.Parameters.Count == 0 ? "" : " m";
}
