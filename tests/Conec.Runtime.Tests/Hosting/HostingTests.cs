using System.Net;
using Conec.Hosting;
using Conec.Tests.Typed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Conec.Tests.Hosting;

/// <summary>A generic host with a coordinator and a client serving a typed contract from DI.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task AHostServesATypedCallAndStopsCleanly()
    {
        var ct = Timeouts.Token();
        var builder = CoordinatorHost();
        builder.Services.AddConecClient((services, c) =>
        {
            // Hosted services start in order: the coordinator is listening when the client is configured.
            var coord = services.GetRequiredService<ConecCoordinatorService>().Coord;
            c.Id = "hosted";
            c.CoordinatorHost = "localhost";
            c.CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
            c.CoordinatorAuthority = TestCertificates.Server;
            c.TrustSystemRoots = false;
            c.Transport = TransportMode.Tcp;
        });
        builder.Services.AddSingleton<IChat, ChatService>();
        builder.Services.AddConecStreamHandler((services, stream, token) =>
            ChatServer.ServeAsync(services.GetRequiredService<IChat>(), stream, cancellationToken: token));
        using var host = builder.Build();
        await host.StartAsync(ct);

        var coordinator = host.Services.GetRequiredService<ConecCoordinatorService>();
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        Assert.Equal(HealthStatus.Healthy, health.Status);

        await using (var caller = await Client.ConnectAsync(Caller(coordinator), ct))
        {
            await using var chat = new ChatClient(await caller.NewProxiedStreamAsync("hosted", ct));
            Assert.Equal(40, await chat.Roll(4, ct));
        }

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await host.StopAsync(ct);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"Stopping took {stopping.Elapsed}.");
        Assert.False(coordinator.IsRunning);
    }

    [Fact]
    public async Task AHostedCoordinatorServesATypedServiceOnStreamsOpenedToIt()
    {
        var ct = Timeouts.Token();
        var builder = CoordinatorHost();
        builder.Services.AddSingleton<IChat, ChatService>();
        builder.Services.AddConecCoordinatorStreamHandler((services, stream, token) =>
            ChatServer.ServeAsync(services.GetRequiredService<IChat>(), stream, cancellationToken: token));
        using var host = builder.Build();
        await host.StartAsync(ct);
        var coordinator = host.Services.GetRequiredService<ConecCoordinatorService>();

        await using (var caller = await Client.ConnectAsync(Caller(coordinator), ct))
        {
            await using var chat = new ChatClient(await caller.NewProxiedStreamAsync(null, ct));
            Assert.Equal(30, await chat.Roll(3, ct));
        }

        await host.StopAsync(ct);
    }

    /// <summary>A host with a coordinator on a loopback port the OS picks, stopping within 5 s.</summary>
    private static HostApplicationBuilder CoordinatorHost()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddConecCoordinator(c =>
        {
            c.Address = IPAddress.Loopback;
            c.Port = 0;
            c.Certificate = TestCertificates.Server;
            c.Transport = TransportMode.Tcp;
        });
        return builder;
    }

    /// <summary>A client of the hosted coordinator, outside the host.</summary>
    private static ClientConfig Caller(ConecCoordinatorService coordinator) => new("caller", "localhost")
    {
        CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coordinator.Coord.LocalEndPoint.Port),
        CoordinatorAuthority = TestCertificates.Server,
        TrustSystemRoots = false,
        Transport = TransportMode.Tcp,
    };
}
