using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Runtime.Versioning;
using Conec.Certificates;
using Conec.Transport;
using Conec.Transport.Quic;

namespace Conec.Tests.Transport;

/// <summary>
/// The QUIC server's ready signal (docs/protocol.md): a client waits for it before its first write, and both sides
/// refuse a peer that does not play its part, with a clear error and within the handshake timeout.
/// </summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("macos")]
public sealed class QuicReadySignalTests
{
    private static readonly TransportSettings ShortHandshake = new() { HandshakeTimeout = TimeSpan.FromSeconds(2) };

    [QuicFact]
    public async Task A_refused_client_certificate_fails_the_connect_itself()
    {
        var requiresCa = TransportPair.ServerTls(c => CertificatePolicy.CheckPeer(c, TestCertificates.Authority));
        await using var listener = await TransportPair.ListenAsync(TransportMode.Quic, tls: requiresCa);

        // Without the signal the client's connect returned before the server had judged its certificate, and the
        // refusal surfaced only on the first exchange (as TlsTests allows); waiting for the signal surfaces it here.
        var error = await Assert.ThrowsAsync<ConecException>(() => TransportPair.ConnectAsync(TransportMode.Quic, listener));
        Assert.Equal(ConecError.HandshakeFailed, error.Error);
    }

    [QuicFact]
    public async Task A_server_that_never_signals_ready_fails_the_connect_within_the_handshake_timeout()
    {
        await using var server = await RawServerAsync();
        var accepting = server.AcceptConnectionAsync(Timeouts.Token()).AsTask();

        var error = await Assert.ThrowsAsync<ConecException>(() => DialAsync(server.LocalEndPoint, ShortHandshake));
        Assert.Equal(ConecError.HandshakeFailed, error.Error);
        Assert.Contains("sent no ready signal", error.Message, StringComparison.Ordinal);
        await using var accepted = await accepting;
    }

    [QuicTheory]
    [InlineData(new byte[] { 0x02 })]
    [InlineData(new byte[] { QuicReadySignal.Value, 0x00 })]
    [InlineData(new byte[0])]
    public async Task A_malformed_ready_signal_is_a_protocol_violation(byte[] signal)
    {
        await using var server = await RawServerAsync();
        var ct = Timeouts.Token();
        var signalling = Task.Run(async () =>
        {
            var connection = await server.AcceptConnectionAsync(ct);
            await using var stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct);
            await stream.WriteAsync(signal, completeWrites: true, ct);
            return connection;
        }, ct);

        var error = await Assert.ThrowsAsync<ConecException>(() => DialAsync(server.LocalEndPoint));
        Assert.Equal(ConecError.ProtocolViolation, error.Error);
        Assert.Contains($"instead of the single byte {QuicReadySignal.Value}", error.Message, StringComparison.Ordinal);
        await using var connection = await signalling;
    }

    [QuicFact]
    public async Task A_client_that_takes_no_ready_signal_is_closed_as_a_protocol_violation()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Quic, ShortHandshake);
        var ct = Timeouts.Token();
        var accepting = listener.AcceptConnectionAsync(ct).AsTask();

        // A client of another protocol version grants no unidirectional stream, so the signal cannot be sent.
        await using var client = await QuicConnection.ConnectAsync(RawClientOptions(listener.LocalEndPoint, unidirectionalStreams: 0), ct);
        await using var accepted = await accepting;

        var closed = await accepted.Closed.WaitAsync(ct);
        Assert.Equal(ConecError.ProtocolViolation, closed.Error);
        Assert.Contains("took no ready signal", closed.Message, StringComparison.Ordinal);
        var seen = await Assert.ThrowsAsync<QuicException>(async () => await client.AcceptInboundStreamAsync(ct));
        Assert.Equal(Conec.Protocol.ProtocolCodes.CloseProtocolViolation, seen.ApplicationErrorCode);
    }

    [QuicFact]
    public async Task A_unidirectional_stream_after_the_signal_is_refused_and_the_connection_keeps_working()
    {
        await using var server = await RawServerAsync();
        var ct = Timeouts.Token();
        var serving = Task.Run(async () =>
        {
            var connection = await server.AcceptConnectionAsync(ct);
            await using (var ready = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct))
            {
                await ready.WriteAsync(new[] { QuicReadySignal.Value }, completeWrites: true, ct);
            }

            var extra = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, ct);
            await extra.WriteAsync("unexpected"u8.ToArray(), completeWrites: false, ct);
            var stopped = await Assert.ThrowsAsync<QuicException>(async () => await extra.WritesClosed.WaitAsync(ct));
            await extra.DisposeAsync();

            var bidirectional = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, ct);
            await bidirectional.WriteAsync("still here"u8.ToArray(), completeWrites: true, ct);
            return (connection, bidirectional, stopped.ApplicationErrorCode);
        }, ct);

        await using var client = await DialAsync(server.LocalEndPoint);
        var inbound = await client.AcceptStreamAsync(ct);
        Assert.Equal("still here"u8.ToArray(), await StreamIo.ReadToEndAsync(inbound, ct));
        var (connection, bidirectional, code) = await serving;
        Assert.Equal(Conec.Protocol.ProtocolCodes.StreamHeaderRefused, code);
        await bidirectional.DisposeAsync();
        await connection.DisposeAsync();
    }

    /// <summary>A QUIC listener with Conec's ALPN and certificate that says nothing on its own.</summary>
    private static async Task<QuicListener> RawServerAsync() => await QuicListener.ListenAsync(new QuicListenerOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ApplicationProtocols = [TransportTls.Alpn],
        ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(new QuicServerConnectionOptions
        {
            DefaultStreamErrorCode = 0,
            DefaultCloseErrorCode = 0,
            MaxInboundBidirectionalStreams = 16,
            ServerAuthenticationOptions = new SslServerAuthenticationOptions
            {
                ApplicationProtocols = [TransportTls.Alpn],
                ServerCertificate = TestCertificates.Server,
                ClientCertificateRequired = true,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificates.Client.GetCertHashString(),
            },
        }),
    }, Timeouts.Token());

    private static QuicClientConnectionOptions RawClientOptions(IPEndPoint server, int unidirectionalStreams) => new()
    {
        RemoteEndPoint = server,
        DefaultStreamErrorCode = 0,
        DefaultCloseErrorCode = 0,
        MaxInboundUnidirectionalStreams = unidirectionalStreams,
        MaxInboundBidirectionalStreams = 1, // so that AcceptInboundStreamAsync may wait, and observe the close
        ClientAuthenticationOptions = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [TransportTls.Alpn],
            ClientCertificates = [TestCertificates.Client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificates.Server.GetCertHashString(),
        },
    };

    private static Task<TransportConnection> DialAsync(IPEndPoint server, TransportSettings? settings = null) =>
        TransportFactory.ConnectAsync(TransportMode.Quic, server, null, TransportPair.ClientTls(), settings ?? new TransportSettings(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, Timeouts.Token());
}
