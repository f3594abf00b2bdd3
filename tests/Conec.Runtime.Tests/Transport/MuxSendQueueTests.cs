using Conec.Transport;
using Conec.Transport.Tcp;

namespace Conec.Tests.Transport;

/// <summary>The multiplexer's send queue sends small writes before bulk, and keeps each stream's frames in order.</summary>
public sealed class MuxSendQueueTests
{
    [Fact]
    public async Task A_small_write_queued_after_bulk_leaves_in_the_next_batch_ahead_of_it()
    {
        var (queue, table) = NewConnection();
        var ct = Timeouts.Token();
        var small = await table.OpenAsync(ct);
        var bulk = await table.OpenAsync(ct);
        await small.WriteAsync(new byte[1], completeWrites: false, ct);
        await bulk.WriteAsync(new byte[1], completeWrites: false, ct);
        var opening = queue.TakeBatch(out _);
        queue.KeepAsSpare(opening);

        // A megabyte on the bulk stream: the bulk lane fills and the write waits for the writer loop.
        var data = Enumerable.Range(0, 1024 * 1024).Select(i => (byte)i).ToArray();
        var bulkWrite = bulk.WriteAsync(data, completeWrites: true, ct).AsTask();
        Assert.False(bulkWrite.IsCompleted, "the bulk lane took the whole megabyte");
        await small.WriteAsync(new byte[64], completeWrites: false, ct);

        var batch = queue.TakeBatch(out _);
        var urgent = Frames(batch.Urgent, batch.UrgentLength);
        Assert.Equal([(small.Id, 64)], urgent.Where(f => f.Type == MuxFrameType.Data).Select(f => (f.StreamId, f.Length)));
        Assert.True(batch.BulkLength <= MuxSendQueue.BulkLaneLimit + 16 * MuxFrame.HeaderSize, $"the bulk lane held {batch.BulkLength} bytes");

        // The rest of the megabyte follows, batch by batch, in order.
        var received = new List<byte>(Body(batch.Bulk, batch.BulkLength, bulk.Id));
        queue.KeepAsSpare(batch);
        while (received.Count < data.Length)
        {
            var next = queue.TakeBatch(out _);
            if (next.IsEmpty)
            {
                // As the writer loop does: the waiting write resumes on another thread and wakes it.
                await queue.WaitForFramesAsync(ct);
                continue;
            }

            Assert.True(next.BulkLength <= MuxSendQueue.BulkLaneLimit + 16 * MuxFrame.HeaderSize, $"the bulk lane held {next.BulkLength} bytes");
            received.AddRange(Body(next.Urgent, next.UrgentLength, bulk.Id));
            received.AddRange(Body(next.Bulk, next.BulkLength, bulk.Id));
            queue.KeepAsSpare(next);
        }

        await bulkWrite.WaitAsync(ct);
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task A_stream_that_outgrows_the_urgent_lane_keeps_its_later_frames_behind_its_earlier_ones()
    {
        var (queue, table) = NewConnection();
        var ct = Timeouts.Token();
        var stream = await table.OpenAsync(ct);
        await stream.WriteAsync(new byte[1], completeWrites: false, ct);
        queue.KeepAsSpare(queue.TakeBatch(out _));

        await stream.WriteAsync(Filled(3000, 1), completeWrites: false, ct);
        await stream.WriteAsync(Filled(3000, 2), completeWrites: false, ct); // past the urgent share: to bulk
        await stream.WriteAsync(Filled(10, 3), completeWrites: true, ct);    // small, but behind its own bulk

        var batch = queue.TakeBatch(out _);
        Assert.Equal(Filled(3000, 1), Body(batch.Urgent, batch.UrgentLength, stream.Id));
        Assert.Equal([.. Filled(3000, 2), .. Filled(10, 3)], Body(batch.Bulk, batch.BulkLength, stream.Id));
        Assert.Equal(MuxFrame.Flag, Frames(batch.Bulk, batch.BulkLength)[^1].Flags);
    }

    private static (MuxSendQueue Queue, MuxStreamTable Table) NewConnection()
    {
        var queue = new MuxSendQueue(isClient: true, now: 0);
        queue.SetConnectionLimit(16 * 1024 * 1024);
        var table = new MuxStreamTable(queue, isClient: true, new TransportSettings());
        table.SetPeerLimits(streamWindow: 2 * 1024 * 1024, maxStreams: 100);
        return (queue, table);
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static List<MuxFrame> Frames(byte[]? lane, int length)
    {
        var frames = new List<MuxFrame>();
        for (var offset = 0; offset < length;)
        {
            var frame = MuxFrame.ReadHeader(lane.AsSpan(offset));
            frames.Add(frame);
            offset += MuxFrame.HeaderSize + frame.Length;
        }

        return frames;
    }

    private static byte[] Body(byte[]? lane, int length, uint streamId)
    {
        var body = new List<byte>();
        for (var offset = 0; offset < length;)
        {
            var frame = MuxFrame.ReadHeader(lane.AsSpan(offset));
            if (frame.Type == MuxFrameType.Data && frame.StreamId == streamId)
            {
                body.AddRange(lane.AsSpan(offset + MuxFrame.HeaderSize, frame.Length).ToArray());
            }

            offset += MuxFrame.HeaderSize + frame.Length;
        }

        return [.. body];
    }
}
