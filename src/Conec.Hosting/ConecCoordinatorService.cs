using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conec.Hosting;

/// <summary>
/// Runs a <see cref="Conec.Coord"/> for the host's lifetime (inject it to reach the coordinator), and hands every
/// stream a client opens to it to the handler registered with <see cref="ConecHostingExtensions.AddConecCoordinatorStreamHandler"/>.
/// </summary>
public sealed class ConecCoordinatorService : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly IOptions<CoordConfig> _options;
    private readonly ILoggerFactory _loggerFactory;
    private Coord? _coord;
    private StreamHandlerRunner? _handlers;

    /// <summary>Created by the host from <see cref="ConecHostingExtensions.AddConecCoordinator(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{CoordConfig})"/>.</summary>
    public ConecCoordinatorService(IServiceProvider services, IOptions<CoordConfig> options, ILoggerFactory loggerFactory)
    {
        _services = services;
        _options = options;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The running coordinator.</summary>
    /// <exception cref="InvalidOperationException">The host has not started it yet.</exception>
    public Coord Coord => _coord ?? throw new InvalidOperationException("The coordinator starts with the host; it is not running yet.");

    /// <summary>Whether the coordinator is running.</summary>
    public bool IsRunning => _coord is { Completion.IsCompleted: false };

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = _options.Value;
        config.LoggerFactory ??= _loggerFactory;
        _coord = await Coord.StartAsync(config, cancellationToken);
        if (_services.GetService<ConecCoordinatorStreamHandler>() is { } handler)
        {
            _handlers = new StreamHandlerRunner(_services, handler.Handle, _loggerFactory.CreateLogger<ConecCoordinatorService>());
            _handlers.Start(_coord.IncomingStreams);
        }
    }

    /// <summary>Closes every client connection and waits for the coordinator's work to end.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_coord is not null)
        {
            await _coord.DisposeAsync().AsTask().WaitAsync(cancellationToken);
        }

        if (_handlers is not null)
        {
            await _handlers.StopAsync(cancellationToken);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_coord is not null)
        {
            await _coord.DisposeAsync();
        }

        if (_handlers is not null)
        {
            await _handlers.DisposeAsync();
        }
    }
}
