namespace Conec.Typed.Internal;

/// <summary>The client filters around one call, outermost first, then the call itself.</summary>
internal sealed class ClientFilterChain(IRpcClientFilter[] filters, RpcCallContext context, Func<ValueTask> call)
{
    private bool _called;

    public async ValueTask RunAsync()
    {
        await NextAsync(0);
        if (!_called)
        {
            throw new InvalidOperationException(
                $"A client filter of {context.Contract}.{context.Method} returned without calling next; a filter refuses a call by throwing.");
        }
    }

    // A filter passes the context on; the call is the same whatever object a filter passed.
    private ValueTask NextAsync(int index) => index < filters.Length
        ? filters[index].InvokeAsync(context, _ => NextAsync(index + 1))
        : CallAsync();

    private ValueTask CallAsync()
    {
        _called = true;
        return call();
    }
}
