using System.Buffers;
using System.Buffers.Binary;
using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Transport;
using Conec.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec.Tests.Coordination;

/// <summary>
/// Peers that speak raw TLS to the coordinator and break the protocol. Each is refused or dropped with a logged
/// reason while two well-behaved clients keep exchanging checked messages.
/// </summary>
public sealed class AdversarialPeerTests
{
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromMilliseconds(500);

    [Theory, TransportModes]
    public async Task GarbageInsteadOfAHelloClosesThatConnectionOnly(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await raw.OpenStreamAsync(ct);
            await control.WriteAsync(SingleFrame.Encode("GET / HTTP/1.1"u8.ToArray()), false, ct);
            Assert.Equal(ProtocolCodes.CloseProtocolViolation, await ClosedCodeAsync(raw, ct));
            Assert.Contains("Malformed", await log.WaitForAsync(2008), StringComparison.Ordinal);
            GC.KeepAlive(control);
        });

    [Theory, TransportModes]
    public async Task AnOversizeFrameIsRefusedFromItsHeader(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await raw.OpenStreamAsync(ct);
            var header = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(header, 1_000_000_000);
            await control.WriteAsync(header, false, ct);
            Assert.Equal(ProtocolCodes.CloseProtocolViolation, await ClosedCodeAsync(raw, ct));
            Assert.Contains("1000000000", await log.WaitForAsync(2008), StringComparison.Ordinal);
            GC.KeepAlive(control);
        });

    [Theory, TransportModes]
    public async Task AHelloWithTheWrongVersionIsRefusedNamingBoth(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await HelloAsync(raw, "client1", version: 99, ct);
            var reply = await ReadControlAsync(control, ct);
            Assert.Equal((ControlTag.HelloRefused, (int)ConecError.VersionMismatch), (reply.Tag, reply.Number));
            Assert.Contains("99", reply.Text, StringComparison.Ordinal);
            Assert.Contains($"version {ProtocolConstants.Version}", reply.Text, StringComparison.Ordinal);
            Assert.Contains("VersionMismatch", await log.WaitForAsync(2006), StringComparison.Ordinal);
        });

    [Theory, TransportModes]
    public async Task ACertificateWhoseNameIsNotTheIdIsRefused(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            // TestCertificates.Client is valid for client1 only.
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await HelloAsync(raw, "client9", ProtocolConstants.Version, ct);
            var reply = await ReadControlAsync(control, ct);
            Assert.Equal((ControlTag.HelloRefused, (int)ConecError.IdentityRejected), (reply.Tag, reply.Number));
            Assert.Contains("client9", await log.WaitForAsync(2006), StringComparison.Ordinal);
            Assert.Equal(2, cluster.Coord.ClientCount);
        });

    [Theory, TransportModes]
    public async Task AnUnknownControlTagAfterTheHelloClosesThatClient(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await HelloAsync(raw, "client1", ProtocolConstants.Version, ct);
            Assert.Equal(ControlTag.HelloAccepted, (await ReadControlAsync(control, ct)).Tag);
            Assert.Equal(3, cluster.Coord.ClientCount);

            await control.WriteAsync(SingleFrame.Encode([0x91, 0x63]), false, ct); // [99]
            Assert.Equal(ProtocolCodes.CloseProtocolViolation, await ClosedCodeAsync(raw, ct));
            Assert.Contains("99", await log.WaitForAsync(2010), StringComparison.Ordinal);
            await cluster.WaitForClientCountAsync(2);
            GC.KeepAlive(control);
        });

    [Theory, TransportModes]
    public async Task ADataStreamWithAnUnknownHeaderDropsThatStreamOnly(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await HelloAsync(raw, "client1", ProtocolConstants.Version, ct);
            Assert.Equal(ControlTag.HelloAccepted, (await ReadControlAsync(control, ct)).Tag);

            var bad = await raw.OpenStreamAsync(ct);
            await bad.WriteAsync(SingleFrame.Encode([0x92, 0x2A, 0x01]), false, ct); // [42, 1]
            var (_, error) = await StreamIo.ReadUntilEndOrErrorAsync(bad, ct);
            Assert.Equal((ConecError.StreamAborted, ProtocolCodes.StreamHeaderRefused), (error?.Error, error?.ApplicationErrorCode ?? -1));
            Assert.Contains("42", await log.WaitForAsync(2011), StringComparison.Ordinal);

            // The connection is still up: a proper stream to the coordinator is accepted.
            await AssertStreamAcceptedAsync(cluster, raw, ct);
            Assert.Equal(3, cluster.Coord.ClientCount);
            GC.KeepAlive(control);
        });

    [Theory, TransportModes]
    public async Task ThousandsOfAbandonedStreamsAreAllReleased(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, _, ct) =>
        {
            await using var raw = await ConnectRawAsync(cluster, ct);
            var control = await HelloAsync(raw, "client1", ProtocolConstants.Version, ct);
            Assert.Equal(ControlTag.HelloAccepted, (await ReadControlAsync(control, ct)).Tag);

            // Twenty times the per-client stream limit: if abandoned streams were not released, opening would stall.
            for (var i = 0; i < 3000; i++)
            {
                var stream = await raw.OpenStreamAsync(ct);
                if (i % 2 == 0)
                {
                    await stream.WriteAsync(new byte[] { 0, 0 }, false, ct); // half a frame header, then gone
                    stream.AbortWrite(1);
                }
                else
                {
                    await stream.WriteAsync(SingleFrame.Encode(new StreamHeader(StreamHeaderKind.ToPeer, "nobody", (ulong)i).Encode()), true, ct);
                }

                await stream.DisposeAsync();
            }

            await AssertStreamAcceptedAsync(cluster, raw, ct);
            GC.KeepAlive(control);
        }, c => c.MaxStreamsPerClient = 150);

    [Theory, TransportModes]
    public async Task ABroadcastJoinFloodIsCutOffAtTheLimit(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            var flooder = await cluster.ConnectAsync("flooder");
            var joined = new List<StreamPair>();
            for (var i = 0; i < 20; i++)
            {
                joined.Add(await flooder.NewBroadcastAsync($"flood{i}", cancellationToken: ct));
            }

            var refused = await Assert.ThrowsAsync<ConecException>(async () => await flooder.NewBroadcastAsync("one-too-many", cancellationToken: ct));
            Assert.Equal(ConecError.LimitExceeded, refused.Error);
            Assert.Contains("limit", await log.WaitForAsync(2011), StringComparison.Ordinal);

            // Leaving frees a place.
            await joined[0].Send.FinishAsync(ct);
            await joined[0].Receive.DisposeAsync();
            await WaitUntilJoinedAsync(flooder, ct);
        }, c => c.MaxBroadcastMembershipsPerClient = 20);

    private static async Task WaitUntilJoinedAsync(Client client, CancellationToken ct)
    {
        // The coordinator releases the membership when it sees the stream end; a join right after may still be refused.
        while (true)
        {
            try
            {
                await client.NewBroadcastAsync("after-leaving", cancellationToken: ct);
                return;
            }
            catch (ConecException e) when (e.Error == ConecError.LimitExceeded)
            {
                await Task.Delay(10, ct);
            }
        }
    }

    [Theory, TransportModes]
    public async Task AClientThatNeverSaysHelloIsClosedAfterTheHelloTimeout(TransportMode mode) =>
        await WithTrafficAsync(mode, async (cluster, log, ct) =>
        {
            // Started before either connects, so before the coordinator starts either one's hello timer.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await using var silent = await ConnectRawAsync(cluster, ct);
            await using var slow = await ConnectRawAsync(cluster, ct);
            var silentClosed = ClosedWhenAsync(silent, clock, ct);
            var slowClosed = ClosedWhenAsync(slow, clock, ct);
            var control = await slow.OpenStreamAsync(ct);
            await control.WriteAsync(new byte[] { 0, 0, 0 }, false, ct); // a hello that never finishes

            foreach (var (code, elapsed) in await Task.WhenAll(silentClosed, slowClosed))
            {
                Assert.Equal(ProtocolCodes.CloseHelloTimeout, code);
                Timeouts.AssertAfterTimeout(elapsed, HelloTimeout, "The coordinator closed a connection without a hello");
            }

            await log.WaitForAsync(2007);
            GC.KeepAlive(control);
        }, c => c.HelloTimeout = HelloTimeout);

    private static async Task WithTrafficAsync(
        TransportMode mode, Func<Cluster, CapturingLoggerFactory, CancellationToken, Task> attack, Action<CoordConfig>? configure = null)
    {
        using var log = new CapturingLoggerFactory();
        await using var cluster = await Cluster.StartAsync(mode, c =>
        {
            c.LoggerFactory = log;
            configure?.Invoke(c);
        });
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var traffic = await CheckedTraffic.StartAsync(cluster, ct);
        await attack(cluster, log, ct);
        await traffic.StopAsync();
    }

    private static Task<TransportConnection> ConnectRawAsync(Cluster cluster, CancellationToken ct) =>
        TransportFactory.ConnectAsync(cluster.Mode, cluster.EndPoint, null, TransportPair.ClientTls(), new TransportSettings(), NullLogger.Instance, ct);

    private static async Task<TransportStream> HelloAsync(TransportConnection connection, string id, int version, CancellationToken ct)
    {
        var control = await connection.OpenStreamAsync(ct);
        await control.WriteAsync(SingleFrame.Encode(ControlMessage.Hello(id, version).Encode()), false, ct);
        return control;
    }

    private static async Task<ControlMessage> ReadControlAsync(TransportStream control, CancellationToken ct)
    {
        var frame = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, ct);
        Assert.NotNull(frame);
        return ControlMessage.Decode(new ReadOnlySequence<byte>(frame));
    }

    private static async Task<long?> ClosedCodeAsync(TransportConnection connection, CancellationToken ct) =>
        (await connection.Closed.WaitAsync(ct)).ApplicationErrorCode;

    /// <summary>The code the connection was closed with, and when on <paramref name="clock"/> it was.</summary>
    private static async Task<(long? Code, TimeSpan Elapsed)> ClosedWhenAsync(TransportConnection connection, System.Diagnostics.Stopwatch clock, CancellationToken ct)
    {
        var closed = await connection.Closed.WaitAsync(ct);
        return (closed.ApplicationErrorCode, clock.Elapsed);
    }

    private static async Task AssertStreamAcceptedAsync(Cluster cluster, TransportConnection connection, CancellationToken ct)
    {
        var taking = Messages.NextAsync(cluster.Coord.IncomingStreams, ct); // the coordinator serves streams opened to it
        var stream = await connection.OpenStreamAsync(ct);
        await stream.WriteAsync(SingleFrame.Encode(new StreamHeader(StreamHeaderKind.ToCoordinator, null, 1).Encode()), false, ct);
        var reply = await SingleFrame.ReadAsync(stream.Input, ProtocolConstants.MaxControlMessageSize, ct);
        Assert.NotNull(reply);
        Assert.Null(StreamReply.Decode(new ReadOnlySequence<byte>(reply)));
        var taken = await taking.WaitAsync(ct);
        taken.Receive.Abort();
        taken.Send.Abort();
        await stream.DisposeAsync();
    }
}
