using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace Conec.Typed.Internal;

/// <summary>
/// The calling end of an RPC stream, used by generated clients: many calls in flight on one stream, each matched to
/// its result by a call id; cancelling a call's token cancels the remote handler; a deadline travels with each call;
/// client filters run around each call; a lost stream fails every call. <see cref="WithDeadline"/> and
/// <see cref="WithTimeout"/> make views that share the stream.
/// </summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RpcClient : IAsyncDisposable
{
    /// <summary>
    /// The most a streamed argument sends ahead of the server's reading, whatever the caller's window: the transport's
    /// own per-stream window (1 MiB), so a caller cannot make a server hold more per call than the transport would.
    /// </summary>
    internal const long MaxArgumentWindow = 1024 * 1024;

    private readonly RpcConnection _connection;
    private readonly RpcContract _contract;
    private readonly DateTimeOffset? _deadline;
    private readonly TimeSpan? _timeout;

    /// <summary>
    /// Starts reading results from <paramref name="receive"/>; calls are sent on <paramref name="send"/>.
    /// <paramref name="contract"/> names the methods in call contexts and errors.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/> when <paramref name="options"/> is invalid.</exception>
    public RpcClient(OutStream send, InStream receive, RpcClientOptions? options = null, RpcContract? contract = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(receive);
        contract ??= RpcContract.Unnamed;
        options ??= new RpcClientOptions();
        options.Validate();
        _connection = new RpcConnection(send, receive, options);
        _contract = contract;
        _timeout = options.DefaultDeadline;
    }

    private RpcClient(RpcClient from, DateTimeOffset? deadline, TimeSpan? timeout)
    {
        _connection = from._connection;
        _contract = from._contract;
        _deadline = deadline;
        _timeout = timeout;
    }

    /// <summary>A view whose calls must all finish by <paramref name="deadline"/>; it shares this client's stream.</summary>
    public RpcClient WithDeadline(DateTimeOffset deadline) => new(this, deadline, null);

    /// <summary>A view whose calls may each take <paramref name="timeout"/> from when they are made; it shares this client's stream.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    public RpcClient WithTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return new(this, null, timeout);
    }

    /// <summary>
    /// Calls method <paramref name="methodId"/> with serialized <paramref name="arguments"/> and returns its result,
    /// read by <paramref name="decode"/> (generated code passes the contract's own reader for the result type).
    /// </summary>
    /// <exception cref="ConecRemoteException">The remote handler threw.</exception>
    /// <exception cref="ConecException">The stream failed before the result arrived, the result does not decode, or the deadline passed.</exception>
    public async ValueTask<T> CallAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, Func<ReadOnlyMemory<byte>, T> decode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return Decode(await CallCoreAsync(methodId, arguments, null, cancellationToken), decode);
    }

    /// <summary>Calls a method that returns no value; completes when the remote handler has finished.</summary>
    public async ValueTask CallAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default) =>
        await CallCoreAsync(methodId, arguments, null, cancellationToken);

    /// <summary>
    /// Calls a method that takes a streamed argument: <paramref name="items"/> go to the server as it reads them
    /// (under its credit), and the result comes back once the handler has finished.
    /// </summary>
    public async ValueTask<T> CallStreamingAsync<TItem, T>(int methodId, ReadOnlyMemory<byte> arguments, IAsyncEnumerable<TItem> items, Func<TItem, ReadOnlyMemory<byte>> encode,
        Func<ReadOnlyMemory<byte>, T> decode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return Decode(await CallCoreAsync(methodId, arguments, Pump(items, encode), cancellationToken), decode);
    }

    /// <summary>Calls a method that takes a streamed argument and returns no value.</summary>
    public async ValueTask CallStreamingAsync<TItem>(int methodId, ReadOnlyMemory<byte> arguments, IAsyncEnumerable<TItem> items, Func<TItem, ReadOnlyMemory<byte>> encode,
        CancellationToken cancellationToken) =>
        await CallCoreAsync(methodId, arguments, Pump(items, encode), cancellationToken);

    /// <summary>
    /// Calls a method whose result is streamed: yields each item as it arrives, read by <paramref name="decode"/>.
    /// Stopping early, or cancelling <paramref name="cancellationToken"/>, cancels the remote handler.
    /// </summary>
    public IAsyncEnumerable<T> StreamAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, Func<ReadOnlyMemory<byte>, T> decode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return StreamCoreAsync(methodId, arguments, null, decode, cancellationToken);
    }

    /// <summary>
    /// Calls a method that streams both ways: <paramref name="items"/> go to the server while its items come back.
    /// Either side ending early, or an error on either side, ends both directions.
    /// </summary>
    public IAsyncEnumerable<T> DuplexAsync<TItem, T>(int methodId, ReadOnlyMemory<byte> arguments, IAsyncEnumerable<TItem> items, Func<TItem, ReadOnlyMemory<byte>> encode,
        Func<ReadOnlyMemory<byte>, T> decode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return StreamCoreAsync(methodId, arguments, Pump(items, encode), decode, cancellationToken);
    }

    /// <summary>Sends a one-way message: the remote handler runs, nothing comes back.</summary>
    public ValueTask NotifyAsync(int methodId, ReadOnlyMemory<byte> arguments, CancellationToken cancellationToken = default) =>
        _connection.Filters.Length == 0
            ? _connection.NotifyAsync(methodId, arguments, cancellationToken)
            : new ClientFilterChain(_connection.Filters, Context(methodId, null, cancellationToken), () => _connection.NotifyAsync(methodId, arguments, cancellationToken)).RunAsync();

    /// <summary>Finishes the calling direction (the server then ends) and fails calls still waiting; ends every view's calls.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    internal static T Decode<T>(ReadOnlyMemory<byte> value, Func<ReadOnlyMemory<byte>, T> decode)
    {
        try
        {
            return decode(value);
        }
        catch (Exception e) when (TypedMessages.IsMalformed(e))
        {
            throw TypedMessages.Malformed(e);
        }
    }

    private static RpcArgumentPump<TItem> Pump<TItem>(IAsyncEnumerable<TItem> items, Func<TItem, ReadOnlyMemory<byte>> encode)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(encode);
        return new RpcArgumentPump<TItem>(items, encode);
    }

    /// <summary>The time this call has, from its view's deadline, else its timeout, else the options' default.</summary>
    private TimeSpan? Timeout() => _deadline is { } deadline ? deadline - DateTimeOffset.UtcNow : _timeout;

    private RpcClientCallContext Context(int methodId, TimeSpan? timeout, CancellationToken cancellationToken) =>
        new(_contract, methodId, timeout is { } t ? DateTimeOffset.UtcNow + t : null, cancellationToken);

    private async ValueTask<ReadOnlyMemory<byte>> CallCoreAsync(int methodId, ReadOnlyMemory<byte> arguments, RpcArgumentPump? argument, CancellationToken cancellationToken)
    {
        var timeout = Timeout();
        if (_connection.Filters.Length == 0)
        {
            return await _connection.CallAsync(_contract, methodId, arguments, argument, timeout, cancellationToken);
        }

        ReadOnlyMemory<byte> result = default;
        await new ClientFilterChain(_connection.Filters, Context(methodId, timeout, cancellationToken), async () =>
            result = await _connection.CallAsync(_contract, methodId, arguments, argument, timeout, cancellationToken)).RunAsync();
        return result;
    }

    private IAsyncEnumerable<T> StreamCoreAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, RpcArgumentPump? argument, Func<ReadOnlyMemory<byte>, T> decode,
        CancellationToken cancellationToken)
    {
        var timeout = Timeout();
        return _connection.Filters.Length == 0
            ? _connection.StreamAsync(_contract, methodId, arguments, argument, timeout, decode, cancellationToken)
            : FilteredStreamAsync(methodId, arguments, argument, timeout, decode, cancellationToken);
    }

    /// <summary>
    /// A streamed call inside the client filters: the chain's innermost step starts the call and waits until the
    /// caller has read the last item or stopped, so a filter's code after <c>next</c> sees the whole call.
    /// </summary>
    private async IAsyncEnumerable<T> FilteredStreamAsync<T>(int methodId, ReadOnlyMemory<byte> arguments, RpcArgumentPump? argument, TimeSpan? timeout,
        Func<ReadOnlyMemory<byte>, T> decode, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chain = new ClientFilterChain(_connection.Filters, Context(methodId, timeout, cancellationToken), async () =>
        {
            started.TrySetResult();
            await ended.Task;
        }).RunAsync().AsTask();
        if (await Task.WhenAny(started.Task, chain) == chain)
        {
            await chain; // a filter refused the call (its exception), or returned without calling next
        }

        await using var items = _connection.StreamAsync(_contract, methodId, arguments, argument, timeout, decode, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (Exception e)
                {
                    // The filters see the call's failure from next, as for any other call.
                    ended.TrySetException(e);
                    throw;
                }

                yield return items.Current;
            }
        }
        finally
        {
            ended.TrySetResult();
            await chain;
        }
    }
}
