using System.Net.Security;
using System.Net.Sockets;
using Conec.Transport;
using Conec.Transport.Tcp;

namespace Conec.Tests.Transport;

/// <summary>A peer that speaks TLS correctly but breaks the multiplexer's frame rules is cut off, never trusted.</summary>
public sealed class MuxProtocolTests
{
    public static TheoryData<string, byte[]> Violations => new()
    {
        { "oversize body", Frame(MuxFrameType.Data, 0, 1, new byte[4], claimedLength: MuxFrame.MaxBody + 1) },
        { "unknown frame type", Frame((MuxFrameType)0x7F, 0, 0, []) },
        { "stream opened out of order", Frame(MuxFrameType.Data, 0, 5, [1, 2, 3]) },
        { "stream of the wrong side never opened", Frame(MuxFrameType.Data, 0, 2, [1]) },
        { "data on stream 0", Frame(MuxFrameType.Data, 0, 0, [1]) },
        { "short reset", Frame(MuxFrameType.ResetStream, 0, 1, [1, 2]) },
        { "second settings", Settings() },
        { "more than the stream window", Frame(MuxFrameType.Data, 0, 1, new byte[MuxFrame.MaxBody]) },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task A_frame_that_breaks_the_protocol_closes_only_that_connection(string violation, byte[] frame)
    {
        var settings = new TransportSettings { StreamReceiveWindow = 32 * 1024 };
        await using var listener = await TransportPair.ListenAsync(TransportMode.Tcp, settings);
        var ct = Timeouts.Token();

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint, ct);
        await using var ssl = new SslStream(new NetworkStream(socket));
        await ssl.AuthenticateAsClientAsync(TransportTls.ClientOptions(TransportPair.ClientTls(), new HandshakeFailure()), ct);
        await ssl.WriteAsync(Settings(), ct);
        await using var server = await listener.AcceptConnectionAsync(ct);

        await ssl.WriteAsync(frame, ct);
        var closed = await server.Closed.WaitAsync(ct);
        Assert.True(closed.Error == ConecError.ProtocolViolation, $"{violation}: {closed.Error} {closed.Message}");

        // The listener still serves well-behaved clients.
        await using var healthy = await TransportPair.ConnectAsync(TransportMode.Tcp, listener);
        await using var accepted = await listener.AcceptConnectionAsync(ct);
        var stream = await healthy.OpenStreamAsync(ct);
        await stream.WriteAsync("ok"u8.ToArray(), true, ct);
        Assert.Equal("ok"u8.ToArray(), await StreamIo.ReadToEndAsync(await accepted.AcceptStreamAsync(ct), ct));
    }

    private static byte[] Settings()
    {
        var body = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(body, 1024 * 1024);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(4), 16 * 1024 * 1024);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(12), 100);
        return Frame(MuxFrameType.Settings, 0, 0, body);
    }

    private static byte[] Frame(MuxFrameType type, byte flags, uint stream, byte[] body, int? claimedLength = null)
    {
        var frame = new byte[MuxFrame.HeaderSize + body.Length];
        MuxFrame.WriteHeader(frame, type, flags, stream, claimedLength ?? body.Length);
        body.CopyTo(frame.AsSpan(MuxFrame.HeaderSize));
        return frame;
    }
}
