using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Conec.Hosting;

/// <summary>Healthy while the hosted coordinator runs and the hosted client (if any) is connected.</summary>
public sealed class ConecHealthCheck(IServiceProvider services) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var coordinator = services.GetService(typeof(ConecCoordinatorService)) as ConecCoordinatorService;
        var client = services.GetService(typeof(ConecClientService)) as ConecClientService;
        if (coordinator is { IsRunning: false })
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The Conec coordinator is not running."));
        }

        if (client is { IsConnected: false })
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The Conec client is not connected to its coordinator."));
        }

        return Task.FromResult(HealthCheckResult.Healthy());
    }
}
