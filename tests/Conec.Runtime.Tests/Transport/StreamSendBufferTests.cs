using System.Buffers;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>
/// Writes that a transport accepts before they are on the wire (the TCP multiplexer's send buffer, the QUIC stream's
/// merged writes): order, the end, disposal and errors must be as if every write had gone out on its own.
/// </summary>
public sealed class StreamSendBufferTests
{
    [Theory]
    [TransportModes]
    public async Task A_burst_of_small_and_large_writes_disposed_at_once_arrives_whole_in_order_then_ends(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var stream = await pair.Client.OpenStreamAsync(ct);
        var expected = new List<byte>();

        // Mostly small writes (merged while one is in flight), with large ones between them (which go straight to
        // the transport when it is idle, and are buffered behind the small ones when it is not). Under 1 MiB in
        // all, so the default stream window takes it unread: nothing reads until after the dispose, when whatever
        // the transport still holds must still leave.
        var random = new Random(20261126);
        for (var i = 0; i < 3_000; i++)
        {
            var data = StreamIo.Pattern(i % 600 == 0 ? 40 * 1024 : random.Next(0, 300), i);
            await stream.WriteAsync(data, completeWrites: false, ct);
            expected.AddRange(data);
        }

        // No CompleteWrites: disposing finishes the send side after whatever the transport still holds.
        await stream.DisposeAsync();
        var received = await StreamIo.ReadToEndAsync(await pair.Server.AcceptStreamAsync(ct), ct);
        Assert.Equal(expected.Count, received.Length);
        Assert.True(expected.SequenceEqual(received), "the bytes arrived changed or out of order");
    }

    [Theory]
    [TransportModes]
    public async Task Writes_after_the_end_or_after_a_reset_fail_with_StreamClosed_and_the_peer_sees_which(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();

        var finished = await pair.Client.OpenStreamAsync(ct);
        await finished.WriteAsync(StreamIo.Pattern(100, 1), completeWrites: false, ct);
        finished.CompleteWrites();
        var afterEnd = await Assert.ThrowsAsync<ConecException>(async () => await finished.WriteAsync(new byte[10], false, ct));
        Assert.Equal(ConecError.StreamClosed, afterEnd.Error);
        Assert.Equal(StreamIo.Pattern(100, 1), await StreamIo.ReadToEndAsync(await pair.Server.AcceptStreamAsync(ct), ct));

        var reset = await pair.Client.OpenStreamAsync(ct);
        await reset.WriteAsync(StreamIo.Pattern(100, 2), completeWrites: false, ct);
        var resetPeer = await pair.Server.AcceptStreamAsync(ct);
        for (var i = 0; i < 100; i++)
        {
            await reset.WriteAsync(StreamIo.Pattern(50, i), completeWrites: false, ct);
        }

        reset.AbortWrite(42);
        var afterReset = await Assert.ThrowsAsync<ConecException>(async () => await reset.WriteAsync(new byte[10], false, ct));
        Assert.Equal(ConecError.StreamClosed, afterReset.Error);
        var (_, error) = await StreamIo.ReadUntilEndOrErrorAsync(resetPeer, ct);
        Assert.NotNull(error);
        Assert.Equal(ConecError.StreamAborted, error.Error);
        Assert.Equal(42, error.ApplicationErrorCode);
    }

    [Theory]
    [TransportModes]
    public async Task A_write_of_many_segments_beyond_the_window_arrives_whole_in_order_and_ends_with_it(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var stream = await pair.Client.OpenStreamAsync(ct);

        // Uneven segments adding up to three stream windows: credit runs out in the middle of segments, so the
        // write resumes part-way through one, and the end must travel with the last byte, not before it.
        var random = new Random(20261127);
        var segments = new List<byte[]>();
        var total = 0;
        while (total < 3 * 1024 * 1024)
        {
            var segment = StreamIo.Pattern(random.Next(1, 9_000), segments.Count);
            segments.Add(segment);
            total += segment.Length;
        }

        var reading = Task.Run(async () => await StreamIo.ReadToEndAsync(await pair.Server.AcceptStreamAsync(ct), ct), ct);
        await stream.WriteAsync(Segments.Chain(segments), completeWrites: true, ct);
        var received = await reading.WaitAsync(ct);

        Assert.Equal(total, received.Length);
        Assert.True(segments.SelectMany(segment => segment).SequenceEqual(received), "the bytes arrived changed or out of order");
        await stream.WritesClosed.WaitAsync(ct);
    }

    /// <summary>Builds a multi-segment sequence, as a pipe hands one out.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Chain(List<byte[]> parts)
        {
            var first = new Segments(parts[0], 0);
            var last = first;
            for (var i = 1; i < parts.Count; i++)
            {
                var next = new Segments(parts[i], last.RunningIndex + last.Memory.Length);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
