using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conec.Hosting;

/// <summary>
/// Keeps a <see cref="Conec.Client"/> connected for the host's lifetime and hands every incoming stream to the
/// handler registered with <see cref="ConecHostingExtensions.AddConecStreamHandler"/>.
/// </summary>
public sealed class ConecClientService : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly IOptions<ClientConfig> _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private Client? _client;
    private StreamHandlerRunner? _handlers;
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
        if (_services.GetService<ConecStreamHandler>() is { } handler)
        {
            _handlers = new StreamHandlerRunner(_services, handler.Handle, _logger);
            _handlers.Start(_client.IncomingStreams);
        }
    }

    /// <summary>Stops taking streams, lets running handlers see cancellation, and disconnects.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        }

        if (_handlers is not null)
        {
            await _handlers.StopAsync(cancellationToken);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // The container may dispose this twice: once as itself, once as the hosted service it also is.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        if (_handlers is not null)
        {
            await _handlers.DisposeAsync();
        }
    }
}
