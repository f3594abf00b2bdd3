using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Conec.Hosting;

/// <summary>Registers a Conec coordinator or client with the generic host.</summary>
public static class ConecHostingExtensions
{
    /// <summary>Runs a coordinator configured by <paramref name="configure"/>; adds the "conec" health check.</summary>
    public static IServiceCollection AddConecCoordinator(this IServiceCollection services, Action<CoordConfig> configure)
    {
        services.AddOptions<CoordConfig>().Configure(configure);
        return AddCoordinator(services);
    }

    /// <summary>Runs a coordinator configured from a configuration section (Port, CertificatePath, KeyPath, ClientAuthorityPath, …).</summary>
    public static IServiceCollection AddConecCoordinator(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<CoordConfig>().Bind(section);
        return AddCoordinator(services);
    }

    /// <summary>Connects a client configured by <paramref name="configure"/> (which may read other services, such as a hosted coordinator).</summary>
    public static IServiceCollection AddConecClient(this IServiceCollection services, Action<IServiceProvider, ClientConfig> configure)
    {
        services.AddOptions<ClientConfig>().Configure<IServiceProvider>((config, provider) => configure(provider, config));
        return AddClient(services);
    }

    /// <summary>Connects a client configured from a configuration section (Id, CoordinatorHost, CoordinatorPort, …).</summary>
    public static IServiceCollection AddConecClient(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<ClientConfig>().Bind(section);
        return AddClient(services);
    }

    /// <summary>Handles every stream opened to the hosted client, each in its own DI scope.</summary>
    public static IServiceCollection AddConecStreamHandler(this IServiceCollection services, Func<IServiceProvider, IncomingStream, CancellationToken, Task> handler)
    {
        services.AddSingleton(new ConecStreamHandler(handler));
        return services;
    }

    /// <summary>Handles every stream a client opens to the hosted coordinator (<c>NewProxiedStreamAsync(null)</c>), each in its own DI scope.</summary>
    public static IServiceCollection AddConecCoordinatorStreamHandler(this IServiceCollection services, Func<IServiceProvider, IncomingStream, CancellationToken, Task> handler)
    {
        services.AddSingleton(new ConecCoordinatorStreamHandler(handler));
        return services;
    }

    private static IServiceCollection AddCoordinator(IServiceCollection services)
    {
        services.TryAddSingleton<ConecCoordinatorService>();
        services.AddHostedService(provider => provider.GetRequiredService<ConecCoordinatorService>());
        AddHealthCheck(services);
        return services;
    }

    private static IServiceCollection AddClient(IServiceCollection services)
    {
        services.TryAddSingleton<ConecClientService>();
        services.AddHostedService(provider => provider.GetRequiredService<ConecClientService>());
        AddHealthCheck(services);
        return services;
    }

    private static void AddHealthCheck(IServiceCollection services)
    {
        if (!services.Any(s => s.ServiceType == typeof(ConecHealthCheck)))
        {
            services.AddSingleton<ConecHealthCheck>();
            services.AddHealthChecks().AddCheck<ConecHealthCheck>("conec");
        }
    }
}
