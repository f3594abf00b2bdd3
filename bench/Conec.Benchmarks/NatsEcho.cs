using NATS.Client.Core;

namespace Conec.Benchmarks;

/// <summary>
/// The baseline of the proxied echo rows: NATS request/reply through a <see cref="NatsServerProcess"/>, with
/// NATS.Net configured as its users configure it: one <see cref="NatsConnection"/> for the requester and one for the
/// responder, TLS with the server's certificate trusted as the CA, <c>RequestAsync&lt;byte[], byte[]&gt;</c> on one
/// side and a subscription answering every request with <c>ReplyAsync</c> on the other.
/// </summary>
internal sealed class NatsEcho : IAsyncDisposable
{
    private const string Subject = "bench.echo";

    private readonly NatsServerProcess _server;
    private readonly NatsConnection _requester;
    private readonly NatsConnection _responder;
    private readonly INatsSub<byte[]> _subscription;
    private readonly Task _responding;

    private NatsEcho(NatsServerProcess server, NatsConnection requester, NatsConnection responder, INatsSub<byte[]> subscription)
    {
        _server = server;
        _requester = requester;
        _responder = responder;
        _subscription = subscription;
        _responding = Task.Run(RespondAsync);
    }

    /// <summary>The server's version, for the legend.</summary>
    public string ServerVersion => _server.Version;

    /// <summary>Starts nats-server on the key pair and connects both sides; the CA file is the server's certificate, self-signed.</summary>
    public static async Task<NatsEcho> StartAsync(string certificatePath, string keyPath)
    {
        var server = await NatsServerProcess.StartAsync(certificatePath, keyPath);
        var connections = new List<NatsConnection>();
        try
        {
            var requester = Connect(server.Port, certificatePath, "bench-requester", connections);
            var responder = Connect(server.Port, certificatePath, "bench-responder", connections);
            await requester.ConnectAsync().AsTask().WithinAsync(Deadline.Setup, "Connecting the NATS requester");
            await responder.ConnectAsync().AsTask().WithinAsync(Deadline.Setup, "Connecting the NATS responder");

            // SubscribeCoreAsync returns once the SUB is written, and the server answers a PING only after what came
            // before it: past the PONG, no request can find no responder. (SubscribeAsync gives no such moment.)
            var subscription = await responder.SubscribeCoreAsync<byte[]>(Subject).AsTask().WithinAsync(Deadline.Setup, "The NATS subscription");
            await responder.PingAsync().AsTask().WithinAsync(Deadline.Setup, "The NATS responder's ping");
            return new NatsEcho(server, requester, responder, subscription);
        }
        catch
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }

            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>p50 and p99 in microseconds of <paramref name="calls"/> 64-byte requests, one at a time.</summary>
    public Task<double[]> RunAsync(int calls) => EchoRuns.OneAtATimeAsync(async payload =>
            (await _requester.RequestAsync<byte[], byte[]>(Subject, payload)).Data?.Length ?? 0, calls)
        .WithinAsync(Deadline.Run, "A NATS request/reply run");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _subscription.UnsubscribeAsync().AsTask().WithinAsync(Deadline.Stop, "The NATS unsubscribe");
            await _responding.WithinAsync(Deadline.Stop, "The NATS responder");
            await _requester.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, "Closing the NATS requester");
            await _responder.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, "Closing the NATS responder");
        }
        finally
        {
            await _server.DisposeAsync();
        }
    }

    private static NatsConnection Connect(int port, string certificatePath, string name, List<NatsConnection> connections)
    {
        var connection = new NatsConnection(new NatsOpts
        {
            Url = $"tls://localhost:{port}",
            Name = name,
            TlsOpts = new NatsTlsOpts { CaFile = certificatePath, Mode = TlsMode.Require },
        });
        connections.Add(connection);
        return connection;
    }

    private async Task RespondAsync()
    {
        await foreach (var request in _subscription.Msgs.ReadAllAsync())
        {
            await request.ReplyAsync(request.Data);
        }
    }
}
