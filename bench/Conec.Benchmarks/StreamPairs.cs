using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Conec.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Nerdbank.Streams;

namespace Conec.Benchmarks;

/// <summary>Makes connected (client, server) byte streams of one kind; every kind runs over TLS 1.3 on loopback.</summary>
internal abstract class StreamPairs : IAsyncDisposable
{
    public abstract Task<(Stream Client, Stream Server)> OpenAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>A TCP connection on loopback with TLS on both ends; <paramref name="client"/> overrides the shared client identity.</summary>
    internal static async Task<(SslStream Client, SslStream Server)> TlsPairAsync(BenchmarkCertificates certificates, TransportClientTls? client = null)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connecting = socket.ConnectAsync(listener.LocalEndPoint!);
        var accepted = await listener.AcceptAsync();
        accepted.NoDelay = true;
        await connecting;
        var clientSsl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        var serverSsl = new SslStream(new NetworkStream(accepted, ownsSocket: true));
        var failure = new HandshakeFailure();
        await Task.WhenAll(
            clientSsl.AuthenticateAsClientAsync(TransportTls.ClientOptions(client ?? certificates.ClientTls, failure)),
            serverSsl.AuthenticateAsServerAsync(TransportTls.ServerOptions(certificates.ServerTls, failure)));
        return (clientSsl, serverSsl);
    }
}

/// <summary>Plain SslStream: each pair is its own TCP connection (the one-hop baseline).</summary>
internal sealed class SslStreamPairs(BenchmarkCertificates certificates) : StreamPairs
{
    private readonly List<Stream> _opened = [];

    public override async Task<(Stream Client, Stream Server)> OpenAsync()
    {
        var (client, server) = await TlsPairAsync(certificates);
        _opened.Add(client);
        _opened.Add(server);
        return (client, server);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var stream in _opened)
        {
            await stream.DisposeAsync();
        }
    }
}

/// <summary>Nerdbank.Streams' MultiplexingStream over one SslStream, channels as streams, default options.</summary>
internal sealed class NerdbankPairs : StreamPairs
{
    private readonly MultiplexingStream _client;
    private readonly MultiplexingStream _server;
    private int _next;

    private NerdbankPairs(MultiplexingStream client, MultiplexingStream server)
    {
        _client = client;
        _server = server;
    }

    public static async Task<NerdbankPairs> StartAsync(BenchmarkCertificates certificates)
    {
        var (client, server) = await TlsPairAsync(certificates);
        var muxes = await Task.WhenAll(MultiplexingStream.CreateAsync(client), MultiplexingStream.CreateAsync(server));
        return new NerdbankPairs(muxes[0], muxes[1]);
    }

    public override async Task<(Stream Client, Stream Server)> OpenAsync()
    {
        var name = $"channel{Interlocked.Increment(ref _next)}";
        var offered = _client.OfferChannelAsync(name);
        var accepted = _server.AcceptChannelAsync(name);
        return ((await offered).AsStream(), (await accepted).AsStream());
    }

    public override async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }
}

/// <summary>Conec's TCP transport: one connection, each pair one multiplexed stream.</summary>
internal sealed class ConecPairs : StreamPairs
{
    private readonly TransportListener _listener;
    private readonly TransportConnection _client;
    private readonly TransportConnection _server;

    private ConecPairs(TransportListener listener, TransportConnection client, TransportConnection server)
    {
        _listener = listener;
        _client = client;
        _server = server;
    }

    public TransportConnection Client => _client;

    public TransportConnection Server => _server;

    public static async Task<ConecPairs> StartAsync(BenchmarkCertificates certificates)
    {
        var settings = new TransportSettings();
        var listener = await TransportFactory.ListenAsync(TransportMode.Tcp, new IPEndPoint(IPAddress.Loopback, 0), certificates.ServerTls, settings, null, NullLogger.Instance, CancellationToken.None);
        var client = TransportFactory.ConnectAsync(TransportMode.Tcp, listener.LocalEndPoint, null, certificates.ClientTls, settings, NullLogger.Instance, CancellationToken.None);
        var server = await listener.AcceptConnectionAsync(CancellationToken.None);
        return new ConecPairs(listener, await client, server);
    }

    public async Task<(TransportStream Client, TransportStream Server)> OpenRawAsync()
    {
        // A stream becomes visible to the peer with its first byte; the pair starts with one the server drops.
        var client = await _client.OpenStreamAsync(CancellationToken.None);
        await client.WriteAsync(new byte[1], false, CancellationToken.None);
        var server = await _server.AcceptStreamAsync(CancellationToken.None);
        var first = await server.Input.ReadAtLeastAsync(1);
        server.Input.AdvanceTo(first.Buffer.GetPosition(1));
        return (client, server);
    }

    public override async Task<(Stream Client, Stream Server)> OpenAsync()
    {
        var (client, server) = await OpenRawAsync();
        return (new TransportStreamAdapter(client), new TransportStreamAdapter(server));
    }

    public override async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _listener.DisposeAsync();
    }
}
