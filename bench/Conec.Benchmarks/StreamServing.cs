using Conec.Concurrency;

namespace Conec.Benchmarks;

/// <summary>
/// Serves every stream that arrives on some <c>IncomingStreams</c> (a client's or a coordinator's) with one handler,
/// each stream on its own task, until stopped: the echo servers of the RPC and latency rows.
/// </summary>
internal sealed class StreamServing : IAsyncDisposable
{
    private readonly Func<IncomingStream, CancellationToken, Task> _serve;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskGroup _served = new(e => Console.Error.WriteLine($"An echo server failed: {e}"));
    private readonly Task[] _accepting;

    public StreamServing(Func<IncomingStream, CancellationToken, Task> serve, params IAsyncEnumerable<IncomingStream>[] sources)
    {
        _serve = serve;
        _accepting = [.. sources.Select(AcceptAllAsync)];
    }

    /// <summary>Tells every handler and accept loop to stop; <see cref="DisposeAsync"/> waits for them.</summary>
    public Task CancelAsync() => _stopping.CancelAsync();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_accepting);
        await _served.WhenAllAsync();
        _stopping.Dispose();
    }

    private async Task AcceptAllAsync(IAsyncEnumerable<IncomingStream> incoming)
    {
        try
        {
            await foreach (var stream in incoming.WithCancellation(_stopping.Token))
            {
                _served.Run(() => ServeOneAsync(stream));
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (ConecException) when (_stopping.IsCancellationRequested)
        {
            // The client's connection ended with the rig.
        }
    }

    private async Task ServeOneAsync(IncomingStream stream)
    {
        try
        {
            await _serve(stream, _stopping.Token);
        }
        catch (ConecException)
        {
            // The caller left with calls unanswered (one that stops reading a result, then goes): its run says so if it mattered.
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
