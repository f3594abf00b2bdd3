using Microsoft.CodeAnalysis;

namespace Conec.Generators.Parsing;

/// <summary>
/// Types no serializer can carry across the network: pending work, code, local cancellation, streams of values,
/// addresses and stack-only values. Code for them would compile only to fail at the first call, or not compile at all.
/// </summary>
internal static class UnsendableTypes
{
    /// <summary>Why a value of <paramref name="type"/> cannot be sent, as a phrase for the diagnostic; null when it can.</summary>
    public static string? Reason(ITypeSymbol type)
    {
        switch (type)
        {
            case IPointerTypeSymbol or IFunctionPointerTypeSymbol:
                return "a pointer is an address in this process";
            case { TypeKind: TypeKind.Dynamic }:
                return "dynamic names no type to read the value back as; declare the type, or object";
            case { IsRefLikeType: true }:
                return "a ref struct cannot be kept in a message; use an array or ReadOnlyMemory<T>";
            case { TypeKind: TypeKind.Delegate }:
                return "a delegate is code, not data";
            case INamedTypeSymbol named:
                return NamedReason(named);
            default:
                return null;
        }
    }

    private static string? NamedReason(INamedTypeSymbol named)
    {
        switch (named.OriginalDefinition.ToDisplayString())
        {
            case "System.Threading.Tasks.Task" or "System.Threading.Tasks.Task<TResult>"
                or "System.Threading.Tasks.ValueTask" or "System.Threading.Tasks.ValueTask<TResult>":
                return "a task is an operation in progress; send its result";
            case "System.Threading.CancellationToken" or "System.Threading.CancellationTokenSource":
                return "cancellation stays in its process; take one CancellationToken as the method's last parameter";
            case "System.Collections.Generic.IAsyncEnumerable<T>" or "System.Collections.Generic.IAsyncEnumerator<T>"
                or "System.Collections.Generic.IEnumerator<T>" or "System.Collections.IEnumerator" or "System.IObservable<T>"
                or "System.Threading.Channels.ChannelReader<T>" or "System.Threading.Channels.ChannelWriter<T>":
                return "a stream of values is not a value; stream it as the method's own IAsyncEnumerable<T> parameter or result";
            case "Conec.RpcCallContext" or "Conec.Typed.Internal.RpcServerCall":
                return "a call's context stays on its side; a handler reads RpcCallContext.Current";
            case "Conec.RpcClientOptions" or "Conec.RpcServerOptions" or "Conec.IRpcClientFilter" or "Conec.IRpcServerFilter":
                return "options and filters configure a client or server, once; pass them to its constructor or ServeAsync, not to a call";
        }

        for (var current = named; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == "System.IO.Stream")
            {
                return "a Stream is a source of bytes, not a value; send byte[] or ReadOnlyMemory<byte>";
            }
        }

        return null;
    }
}
