using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conec.Hosting;

/// <summary>
/// Keeps a <see cref="Conec.Client"/> connected for the host's lifetime and hands every incoming stream to the
/// handler registered with <see cref="ConecHostingExtensions.AddConecStreamHandler"/>.
/// </summary>
public sealed partial class ConecClientService : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly IOptions<ClientConfig> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _handlers = [];
    private Client? _client;
    private Task? _accepting;
    private int _disposed;

    /// <summary>Created by the host from <see cref="ConecHostingExtensions.AddConecClient(IServiceCollection, Action{IServiceProvider, ClientConfig})"/>.</summary>
    public ConecClientService(IServiceProvider services, IOptions<ClientConfig> options, ILoggerFactory loggerFactory)
    {
        _services = services;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ConecClientService>();
    }

    /// <summary>The connected client.</summary>
    /// <exception cref="InvalidOperationException">The host has not started it yet.</exception>
    public Client Client => _client ?? throw new InvalidOperationException("The client connects when the host starts; it is not connected yet.");

    /// <summary>Whether the client's coordinator connection is up.</summary>
    public bool IsConnected => _client is { Completion.IsCompleted: false };

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = _options.Value;
        config.LoggerFactory ??= _loggerFactory;
        _client = await Client.ConnectAsync(config, cancellationToken);
        var handler = _services.GetService<ConecStreamHandler>();
        if (handler is not null)
        {
            _accepting = Task.Run(() => AcceptAsync(_client, handler), CancellationToken.None);
        }
    }

    /// <summary>Stops taking streams, lets running handlers see cancellation, and disconnects.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        }

        if (_accepting is not null)
        {
            await _accepting.WaitAsync(cancellationToken);
        }

        Task[] running;
        lock (_handlers)
        {
            running = [.. _handlers];
        }

        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // The container may dispose this twice: once as itself, once as the hosted service it also is.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync(Client client, ConecStreamHandler handler)
    {
        try
        {
            await foreach (var stream in client.IncomingStreams.WithCancellation(_stopping.Token))
            {
                var task = Task.Run(() => HandleAsync(handler, stream), CancellationToken.None);
                lock (_handlers)
                {
                    _handlers.RemoveAll(t => t.IsCompleted);
                    _handlers.Add(task);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ConecException)
        {
            // Stopping, or the coordinator connection ended: no more streams will come.
        }
    }

    private async Task HandleAsync(ConecStreamHandler handler, IncomingStream stream)
    {
        try
        {
            await using var scope = _services.CreateAsyncScope();
            await handler.Handle(scope.ServiceProvider, stream, _stopping.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One stream's handler failing must not stop the others; the failure is logged with the stream's origin.
            LogHandlerFailed(_logger, stream.Peer ?? "the coordinator", stream.StreamId, e);
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
