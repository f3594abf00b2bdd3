using Microsoft.Extensions.DependencyInjection;

namespace Conec;

/// <summary>Gives a hosted coordinator's cluster its Redis directory, for configuration bound from a file.</summary>
public static class RedisDirectoryServiceExtensions
{
    /// <summary>
    /// Calls <see cref="RedisDirectoryExtensions.UseRedisDirectory"/> on the <see cref="CoordConfig.Cluster"/> that
    /// <c>AddConecCoordinator</c> binds (section <c>Cluster</c>), once every other configuration has run; a
    /// coordinator without a <c>Cluster</c> section stays a single coordinator.
    /// </summary>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddConecRedisDirectory(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.PostConfigure<CoordConfig>(config => config.Cluster?.UseRedisDirectory());
        return services;
    }
}
