using Conec.Transport.Tcp;

namespace Conec.Tests.Transport;

/// <summary>
/// The socket stream under the multiplexer's TLS: TLS records written during a batch leave together and in order,
/// everything else goes straight through; small reads share one socket read.
/// </summary>
public sealed class RecordCoalescingStreamTests
{
    [Fact]
    public async Task Writes_outside_a_batch_go_straight_through()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();

        await records.WriteAsync(Bytes(1, 10), ct);
        await records.WriteAsync(Bytes(2, 20), ct);

        Assert.Equal([10, 20], socket.Writes);
        Assert.Equal([.. Bytes(1, 10), .. Bytes(2, 20)], socket.ToArray());
    }

    [Fact]
    public async Task Writes_in_a_batch_leave_together_when_it_ends()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();

        await records.BeginBatchAsync(32_800, ct);
        await records.WriteAsync(Bytes(1, 16_406), ct);
        await records.WriteAsync(Bytes(2, 16_406), ct);
        await records.WriteAsync(Bytes(3, 100), ct);
        Assert.Empty(socket.Writes);

        await records.EndBatchAsync(ct);
        Assert.Equal([32_912], socket.Writes);
        Assert.Equal([.. Bytes(1, 16_406), .. Bytes(2, 16_406), .. Bytes(3, 100)], socket.ToArray());

        // The batch is over: the next write is not held back.
        await records.WriteAsync(Bytes(4, 5), ct);
        Assert.Equal([32_912, 5], socket.Writes);
    }

    [Fact]
    public async Task A_full_buffer_is_sent_before_the_write_that_does_not_fit()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();
        var record = RecordCoalescingStream.Capacity / 4;

        await records.BeginBatchAsync(5 * record, ct);
        for (var i = 0; i < 5; i++)
        {
            await records.WriteAsync(Bytes((byte)i, record), ct);
        }

        Assert.Equal([4 * record], socket.Writes);
        await records.EndBatchAsync(ct);
        Assert.Equal([4 * record, record], socket.Writes);
        Assert.Equal(Enumerable.Range(0, 5).SelectMany(i => Bytes((byte)i, record)).ToArray(), socket.ToArray());
    }

    [Fact]
    public async Task A_write_larger_than_the_buffer_follows_what_was_gathered()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();
        var large = RecordCoalescingStream.Capacity + 1;

        await records.BeginBatchAsync(300 + large + 7, ct);
        await records.WriteAsync(Bytes(1, 300), ct);
        await records.WriteAsync(Bytes(2, large), ct);
        await records.WriteAsync(Bytes(3, 7), ct);
        await records.EndBatchAsync(ct);

        Assert.Equal([300, large, 7], socket.Writes);
        Assert.Equal([.. Bytes(1, 300), .. Bytes(2, large), .. Bytes(3, 7)], socket.ToArray());
    }

    [Fact]
    public async Task Flush_sends_what_a_batch_has_gathered_so_far()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();

        await records.BeginBatchAsync(128, ct);
        await records.WriteAsync(Bytes(1, 64), ct);
        await records.FlushAsync(ct);
        Assert.Equal([64], socket.Writes);
        await records.WriteAsync(Bytes(2, 64), ct);
        await records.EndBatchAsync(ct);
        Assert.Equal([64, 64], socket.Writes);
    }

    [Fact]
    public async Task Small_reads_are_served_from_one_socket_read()
    {
        var socket = new RecordingStream();
        socket.Write(Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray());
        socket.Position = 0;
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();
        var received = new List<byte>();
        var buffer = new byte[100];

        int read;
        while ((read = await records.ReadAsync(buffer, ct)) > 0)
        {
            received.AddRange(buffer[..read]);
        }

        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (byte)i), received);
        Assert.Equal(2, socket.Reads); // one chunk, then the end
    }

    [Fact]
    public async Task A_zero_byte_read_waits_on_the_socket_only_when_nothing_is_held()
    {
        var socket = new RecordingStream();
        socket.Write(Bytes(7, 10));
        socket.Position = 0;
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();

        Assert.Equal(0, await records.ReadAsync(Memory<byte>.Empty, ct));
        Assert.Equal(1, socket.Reads);
        var buffer = new byte[4];
        Assert.Equal(4, await records.ReadAsync(buffer, ct));
        Assert.Equal(2, socket.Reads);

        // Six bytes are held: a zero-byte read says so at once, and the rest comes without the socket.
        Assert.Equal(0, await records.ReadAsync(Memory<byte>.Empty, ct));
        Assert.Equal(6, await records.ReadAsync(new byte[64], ct));
        Assert.Equal(2, socket.Reads);
    }

    [Fact]
    public async Task A_large_read_goes_straight_to_the_socket()
    {
        var socket = new RecordingStream();
        socket.Write(Bytes(3, 200));
        socket.Position = 0;
        await using var records = new RecordCoalescingStream(socket);
        var buffer = new byte[RecordCoalescingStream.MinReadChunk];

        Assert.Equal(200, await records.ReadAsync(buffer, Timeouts.Token()));
        Assert.Equal(buffer.Length, socket.LastReadSize);
    }

    [Fact]
    public async Task A_batch_leaves_whole_though_TLS_makes_its_records_larger_than_its_data()
    {
        var socket = new RecordingStream();
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();

        // The buffer is sized from the batch's 20,000 bytes of data, with room for what each record adds to it.
        await records.BeginBatchAsync(20_000, ct);
        await records.WriteAsync(Bytes(1, 16_406), ct);
        await records.WriteAsync(Bytes(2, 3_638), ct);
        Assert.Empty(socket.Writes);
        await records.EndBatchAsync(ct);
        Assert.Equal([20_044], socket.Writes);
    }

    [Fact]
    public async Task The_read_chunk_grows_while_reads_fill_it_and_shrinks_when_they_do_not()
    {
        const int min = RecordCoalescingStream.MinReadChunk;
        var socket = new RecordingStream();
        socket.Write(Bytes(1, min + (2 * min) + (4 * min) + 10));
        socket.Position = 0;
        await using var records = new RecordCoalescingStream(socket);
        var ct = Timeouts.Token();
        var buffer = new byte[1000];

        long received = 0;
        int read;
        while ((read = await records.ReadAsync(buffer, ct)) > 0)
        {
            received += read;
        }

        Assert.Equal(socket.Length, received);

        // Full reads of 64, 128 and 256 KiB double the chunk; the 10 bytes left halve it again; then the end.
        Assert.Equal([min, 2 * min, 4 * min, 8 * min, 4 * min], socket.ReadSizes);
        Assert.Equal(RecordCoalescingStream.MaxReadChunk, 8 * min);
    }

    private static byte[] Bytes(byte value, int count) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>A socket stand-in that remembers the size of every write, and counts reads.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public int Reads { get; private set; }

        public int LastReadSize { get; private set; }

        public List<int> ReadSizes { get; } = [];

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            LastReadSize = buffer.Length;
            ReadSizes.Add(buffer.Length);
            return base.ReadAsync(buffer, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Writes.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}
