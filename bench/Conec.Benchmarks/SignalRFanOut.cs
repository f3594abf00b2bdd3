using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conec.Benchmarks;

/// <summary>
/// An in-process ASP.NET Core SignalR server (Kestrel, HTTPS with the same certificate as the coordinator, WebSockets,
/// MessagePack protocol) and its clients: the baseline for broadcast fan-out.
/// </summary>
internal sealed class SignalRFanOut : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _url;
    private readonly byte[] _pinned;

    private SignalRFanOut(WebApplication app, string url, X509Certificate2 certificate)
    {
        _app = app;
        _url = url;
        _pinned = certificate.RawData;
    }

    public static async Task<SignalRFanOut> StartAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        builder.Services.AddSignalR().AddMessagePackProtocol();
        var app = builder.Build();
        app.MapHub<FanOutHub>("/fan");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new SignalRFanOut(app, $"https://localhost:{port}/fan", certificate);
    }

    /// <summary>Messages delivered per second: one sender, <paramref name="receivers"/> group members, <paramref name="count"/> messages.</summary>
    public async Task<double> RunAsync(int receivers, int size, int count)
    {
        var connections = new List<HubConnection>();
        try
        {
            var sender = await ConnectAsync();
            connections.Add(sender);
            var done = new List<Task>();
            for (var i = 0; i < receivers; i++)
            {
                var connection = await ConnectAsync();
                connections.Add(connection);
                var received = 0;
                var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                connection.On<byte[]>("message", _ =>
                {
                    if (Interlocked.Increment(ref received) == count)
                    {
                        all.TrySetResult();
                    }
                });
                await connection.InvokeAsync(nameof(FanOutHub.Join));
                done.Add(all.Task);
            }

            var payload = new byte[size];
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                await sender.SendAsync(nameof(FanOutHub.Publish), payload);
            }

            await Task.WhenAll(done).WaitAsync(TimeSpan.FromMinutes(5));
            return (double)count * receivers / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private bool IsPinned(X509Certificate? presented) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(_pinned);

    private async Task<HubConnection> ConnectAsync()
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(_url, HttpTransportType.WebSockets, o =>
            {
                o.SkipNegotiation = true;
                // The server presents the benchmark's self-signed certificate: pin it, as Conec's clients trust it.
                o.WebSocketConfiguration = ws => ws.RemoteCertificateValidationCallback = (_, presented, _, _) => IsPinned(presented);
                o.HttpMessageHandlerFactory = handler =>
                {
                    if (handler is HttpClientHandler client)
                    {
                        client.ServerCertificateCustomValidationCallback = (_, presented, _, _) => IsPinned(presented);
                    }

                    return handler;
                };
            })
            .AddMessagePackProtocol()
            .Build();
        await connection.StartAsync();
        return connection;
    }
}
