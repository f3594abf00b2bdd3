using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Streams;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conec.Benchmarks;

/// <summary>
/// The baseline of the typed RPC rows: an in-process grpc-dotnet server (Grpc.AspNetCore on Kestrel, HTTPS with the
/// coordinator's certificate, HTTP/2) serving <see cref="GrpcEchoService"/>, and one <see cref="GrpcChannel"/> to it.
/// Both run with their defaults, apart from what HTTPS and HTTP/2 on loopback need and message size limits equal
/// to Conec's.
/// </summary>
internal sealed class GrpcEchoHost : IAsyncDisposable
{
    // The largest message Conec's coordinator and clients accept, on send and on receive (8 MiB, FrameLimits).
    // gRPC's defaults are 4 MB received and no limit sent.
    private const int MaxMessageSize = FrameLimits.DefaultMaxMessageSize;

    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private GrpcEchoHost(WebApplication app, GrpcChannel channel, int port)
    {
        _app = app;
        _channel = channel;
        Port = port;
    }

    public int Port { get; }

    public static async Task<GrpcEchoHost> StartAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http2; // gRPC needs HTTP/2; TLS negotiates it with ALPN
            o.UseHttps(certificate);
        }));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = MaxMessageSize;
            o.MaxSendMessageSize = MaxMessageSize;
        });
        var app = builder.Build();
        app.MapGrpcService<GrpcEchoService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new GrpcEchoHost(app, CreateChannel(port, certificate), port);
    }

    /// <summary>A caller of this process's server, over the one channel.</summary>
    public Task<IEchoCaller> OpenAsync() => Task.FromResult<IEchoCaller>(new GrpcEchoCaller(_channel));

    /// <summary>
    /// A channel to a server on loopback <paramref name="port"/> that presents <paramref name="pinned"/>: the
    /// handler GrpcChannel makes by default (a SocketsHttpHandler with EnableMultipleHttp2Connections), told to trust
    /// that certificate, as Conec's clients trust the coordinator's.
    /// </summary>
    public static GrpcChannel CreateChannel(int port, X509Certificate2 pinned)
    {
        var raw = pinned.RawData;
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(raw);
        return GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = MaxMessageSize,
            MaxSendMessageSize = MaxMessageSize,
        });
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
