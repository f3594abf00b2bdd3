using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conec.Hosting;

/// <summary>
/// Takes incoming streams for a hosted client or coordinator and runs a handler on each, in its own DI scope; one
/// handler failing is logged and aborts its own stream only. Stopping cancels the handlers and waits for them.
/// </summary>
internal sealed partial class StreamHandlerRunner(IServiceProvider services, Func<IServiceProvider, IncomingStream, CancellationToken, Task> handle, ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _handlers = [];
    private Task _accepting = Task.CompletedTask;

    /// <summary>Starts taking streams; enumeration begins before this returns, so streams are not refused as unserved.</summary>
    public void Start(IAsyncEnumerable<IncomingStream> streams)
    {
        var enumerator = streams.GetAsyncEnumerator(_stopping.Token);
        _accepting = AcceptAsync(enumerator);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        await _accepting.WaitAsync(cancellationToken);
        Task[] running;
        lock (_handlers)
        {
            running = [.. _handlers];
        }

        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    private async Task AcceptAsync(IAsyncEnumerator<IncomingStream> streams)
    {
        try
        {
            while (await streams.MoveNextAsync())
            {
                var stream = streams.Current;
                var task = Task.Run(() => HandleAsync(stream), CancellationToken.None);
                lock (_handlers)
                {
                    _handlers.RemoveAll(t => t.IsCompleted);
                    _handlers.Add(task);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ConecException)
        {
            // Stopping, or the connection or coordinator ended: no more streams will come.
        }
        finally
        {
            await streams.DisposeAsync();
        }
    }

    private async Task HandleAsync(IncomingStream stream)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            await handle(scope.ServiceProvider, stream, _stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One stream's handler failing must not stop the others; the failure is logged with the stream's origin.
            LogHandlerFailed(logger, stream.Peer ?? "the coordinator", stream.StreamId, e);
            stream.Send.Abort();
            stream.Receive.Abort();
        }
        catch (OperationCanceledException)
        {
            stream.Send.Abort();
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "The handler of stream {StreamId} from {Peer} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string peer, ulong streamId, Exception exception);
}
