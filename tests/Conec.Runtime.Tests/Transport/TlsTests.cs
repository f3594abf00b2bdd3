using System.Net.Security;
using System.Net.Sockets;
using Conec.Certificates;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>Every way a TLS handshake must be refused, with an error that says why.</summary>
public sealed class TlsTests
{
    [Theory]
    [TransportModes]
    public async Task A_server_certificate_for_another_host_name_is_refused(TransportMode mode)
    {
        await using var listener = await TransportPair.ListenAsync(mode);
        var error = await Assert.ThrowsAsync<ConecException>(() => TransportPair.ConnectAsync(mode, listener, tls: TransportPair.ClientTls("coordinator.example")));
        Assert.Equal(ConecError.HandshakeFailed, error.Error);
        Assert.Contains("not valid for the host name 'coordinator.example'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [TransportModes]
    public async Task An_untrusted_server_certificate_is_refused(TransportMode mode)
    {
        await using var listener = await TransportPair.ListenAsync(mode);
        var trustsSomethingElse = new TransportClientTls("localhost", TestCertificates.Client)
        {
            TrustedAuthorities = [TestCertificates.Authority],
            TrustSystemRoots = true,
        };
        var error = await Assert.ThrowsAsync<ConecException>(() => TransportPair.ConnectAsync(mode, listener, tls: trustsSomethingElse));
        Assert.Equal(ConecError.HandshakeFailed, error.Error);
        Assert.Contains("is not trusted", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [TransportModes]
    public async Task An_untrusted_client_certificate_is_refused(TransportMode mode)
    {
        var requiresCa = TransportPair.ServerTls(c => CertificatePolicy.CheckPeer(c, TestCertificates.Authority));
        await using var listener = await TransportPair.ListenAsync(mode, tls: requiresCa);
        var ct = Timeouts.Token();

        // TLS 1.3 lets a client finish its handshake before the server checks its certificate; the refusal
        // surfaces at the latest on the first exchange (the TCP transport waits for it inside ConnectAsync).
        var error = await Assert.ThrowsAsync<ConecException>(async () =>
        {
            await using var connection = await TransportPair.ConnectAsync(mode, listener);
            var stream = await connection.OpenStreamAsync(ct);
            await stream.WriteAsync("hello"u8.ToArray(), true, ct);
            await StreamIo.ReadToEndAsync(stream, ct);
        });
        Assert.Contains(error.Error, new[] { ConecError.HandshakeFailed, ConecError.ConnectionClosed, ConecError.ProtocolViolation });
        var accepting = listener.AcceptConnectionAsync(ct).AsTask();
        Assert.False(await Timeouts.CompletesWithin(accepting, TimeSpan.FromMilliseconds(300)), "The refused client was accepted.");

        // The same pending accept takes the next client whose certificate the CA signed: the listener was waiting, not broken.
        using var signed = ConecCertificates.CreateSigned("client1", TestCertificates.Authority);
        var trusted = new TransportClientTls("localhost", signed) { TrustedAuthorities = [TestCertificates.Server], TrustSystemRoots = false };
        await using var connected = await TransportPair.ConnectAsync(mode, listener, tls: trusted);
        await using var accepted = await accepting.WaitAsync(ct);
        Assert.Equal(signed.Thumbprint, accepted.RemoteCertificate.Thumbprint);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        await using var listener = await TransportPair.ListenAsync(TransportMode.Tcp);
        var ct = Timeouts.Token();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint, ct);
        await using var ssl = new SslStream(new NetworkStream(socket));
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [TransportTls.Alpn],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == TestCertificates.Server.GetCertHashString(),
            }, ct);

            // With TLS 1.3 the refusal may arrive as the first read instead of during the handshake.
            var buffer = new byte[64];
            while (await ssl.ReadAsync(buffer, ct) > 0)
            {
            }

            throw new IOException("the server closed the connection");
        });
        Assert.IsNotType<OperationCanceledException>(refused);
    }

    [Theory]
    [TransportModes]
    public async Task A_client_offering_another_application_protocol_is_refused(TransportMode mode)
    {
        await using var listener = await TransportPair.ListenAsync(mode);
        var otherAlpn = new TransportClientTls("localhost", TestCertificates.Client)
        {
            TrustedAuthorities = [TestCertificates.Server],
            TrustSystemRoots = false,
            ApplicationProtocol = new SslApplicationProtocol("not-conec"),
        };
        var error = await Assert.ThrowsAsync<ConecException>(() => TransportPair.ConnectAsync(mode, listener, tls: otherAlpn));
        Assert.Equal(ConecError.HandshakeFailed, error.Error);
    }
}
