using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Streams;
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
/// MessagePack protocol) and its clients: the baseline for broadcast fan-out. Its buffers are set to what Conec's
/// broadcast path may buffer at the same points, where SignalR has a setting for it. The same server also maps
/// <see cref="EchoHub"/> with SignalR's defaults; `bench latency` runs it in a child process (<see cref="RunChildAsync"/>).
/// </summary>
internal sealed class SignalRFanOut : IAsyncDisposable
{
    // What Conec's coordinator may queue for one broadcast receiver: a member's queue under Wait holds at most 4 MiB (MemberQueue).
    private const long ServerBufferPerReceiver = 4 << 20;

    // A Conec stream's 1 MiB window, each way: what a receiver may hold unread, and what the coordinator takes from a sender before it waits.
    private static readonly long StreamWindow = new Transport.TransportSettings().StreamReceiveWindow;

    // The largest message Conec's coordinator and clients accept by default (8 MiB, CoordConfig/ClientConfig.MaxMessageSize).
    private const int MaxMessageSize = FrameLimits.DefaultMaxMessageSize;

    private readonly WebApplication _app;
    private readonly string _url;
    private readonly byte[] _pinned;

    private SignalRFanOut(WebApplication app, int port, X509Certificate2 certificate)
    {
        _app = app;
        Port = port;
        _url = $"https://localhost:{port}/fan";
        _pinned = certificate.RawData;
    }

    /// <summary>The server's port on loopback.</summary>
    public int Port { get; }

    public static async Task<SignalRFanOut> StartAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        builder.Services.AddSignalR(o => o.MaximumReceiveMessageSize = MaxMessageSize).AddMessagePackProtocol();
        var app = builder.Build();
        app.MapHub<FanOutHub>("/fan", o =>
        {
            o.ApplicationMaxBufferSize = ServerBufferPerReceiver; // written by the hub, waiting for one client
            o.TransportMaxBufferSize = StreamWindow; // read from one client (the sender), waiting for the hub
        });
        app.MapHub<EchoHub>(EchoHub.Path);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new SignalRFanOut(app, port, certificate);
    }

    /// <summary>The child's side (`signalr-child`): this server, on the key pair's certificate, until the parent says <c>exit</c>.</summary>
    public static async Task RunChildAsync(string certificatePath, string keyPath)
    {
        await using var server = await StartAsync(ConecCertificates.Load(certificatePath, keyPath));
        await CoordinatorProcess.ServeMeasurementsAsync(server.Port);
    }

    /// <summary>Messages delivered per second: one sender, <paramref name="receivers"/> group members, <paramref name="count"/> messages.</summary>
    public async Task<double> RunAsync(int receivers, int size, int count)
    {
        var connections = new List<HubConnection>();
        try
        {
            var sender = await ConnectAsync(_url, _pinned);
            connections.Add(sender);
            var done = new List<Task>();
            for (var i = 0; i < receivers; i++)
            {
                var connection = await ConnectAsync(_url, _pinned);
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

    /// <summary>A started connection to the hub at <paramref name="url"/>, whose server must present the certificate <paramref name="pinned"/>.</summary>
    internal static async Task<HubConnection> ConnectAsync(string url, byte[] pinned)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(url, HttpTransportType.WebSockets, o =>
            {
                o.SkipNegotiation = true;
                o.TransportMaxBufferSize = StreamWindow; // received, not yet read by the application (a receiver's window)
                o.ApplicationMaxBufferSize = StreamWindow; // sent by the application, not yet on the wire (a sender's window)
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

        bool IsPinned(X509Certificate? presented) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(pinned);
    }
}
