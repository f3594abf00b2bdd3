using System.Net;
using Conec.Certificates;
using Conec.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec.Tests.Transport;

/// <summary>A listener on an ephemeral loopback port with one connected client, for the contract tests.</summary>
internal sealed class TransportPair : IAsyncDisposable
{
    private TransportPair(TransportListener listener, TransportConnection client, TransportConnection server)
    {
        Listener = listener;
        Client = client;
        Server = server;
    }

    public TransportListener Listener { get; }

    public TransportConnection Client { get; }

    public TransportConnection Server { get; }

    public static TransportServerTls ServerTls(Func<System.Security.Cryptography.X509Certificates.X509Certificate2, string?>? validate = null) =>
        new(TestCertificates.Server, null, validate ?? (c => CertificatePolicy.CheckPeer(c, null)));

    public static TransportClientTls ClientTls(string host = "localhost") =>
        new(host, TestCertificates.Client) { TrustedAuthorities = [TestCertificates.Server], TrustSystemRoots = false };

    public static async Task<TransportListener> ListenAsync(TransportMode mode, TransportSettings? settings = null, TransportServerTls? tls = null) =>
        await TransportFactory.ListenAsync(mode, new IPEndPoint(IPAddress.Loopback, 0), tls ?? ServerTls(), settings ?? new TransportSettings(),
            null, NullLogger.Instance, Timeouts.Token());

    public static Task<TransportConnection> ConnectAsync(TransportMode mode, TransportListener listener, TransportSettings? settings = null, TransportClientTls? tls = null) =>
        TransportFactory.ConnectAsync(mode, listener.LocalEndPoint, null, tls ?? ClientTls(), settings ?? new TransportSettings(), NullLogger.Instance, Timeouts.Token());

    public static async Task<TransportPair> StartAsync(TransportMode mode, TransportSettings? server = null, TransportSettings? client = null)
    {
        var listener = await ListenAsync(mode, server);
        var connecting = ConnectAsync(mode, listener, client);
        var accepted = await listener.AcceptConnectionAsync(Timeouts.Token());
        return new TransportPair(listener, await connecting, accepted);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await Listener.DisposeAsync();
    }
}
