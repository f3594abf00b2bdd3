using System.Buffers;
using Conec.Streams;
using Conec.Tests.Transport;
using Conec.Transport;

namespace Conec.Tests.Framing;

/// <summary>Length-delimited messages over every transport: limits, truncation, empty messages.</summary>
public sealed class FramingTests
{
    [Theory]
    [TransportModes]
    public async Task Messages_of_every_size_including_empty_arrive_whole_and_in_order(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var raw = await pair.Client.OpenStreamAsync(ct);
        var send = new OutStream(raw, 1024 * 1024);
        var sizes = new[] { 0, 1, 0, 4095, 4096, 4097, 100_000, 0, 1024 * 1024 };

        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < sizes.Length; i++)
            {
                await send.SendAsync(StreamIo.Pattern(sizes[i], i), ct);
            }

            await send.FinishAsync(ct);
        }, ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 1024 * 1024);
        var received = new List<byte[]>();
        await foreach (var message in receive.WithCancellation(ct))
        {
            received.Add(message.ToArray());
        }

        await sending;
        Assert.Equal(sizes.Length, received.Count);
        for (var i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(StreamIo.Pattern(sizes[i], i), received[i]);
        }
    }

    [Theory]
    [TransportModes]
    public async Task An_oversize_message_is_refused_on_send_before_anything_is_written(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var send = new OutStream(await pair.Client.OpenStreamAsync(ct), 1000);

        var error = await Assert.ThrowsAsync<ConecException>(async () => await send.SendAsync(new byte[1001], ct));
        Assert.Equal(ConecError.MessageTooLarge, error.Error);

        await send.SendAsync(new byte[1000], ct);
        await send.FinishAsync(ct);
        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 1000);
        Assert.Equal(1000, (await receive.ReadAsync(ct))!.Length);
        Assert.Null(await receive.ReadAsync(ct));
    }

    [Theory]
    [TransportModes]
    public async Task An_oversize_message_is_refused_on_receive_and_the_sender_learns_it(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var send = new OutStream(await pair.Client.OpenStreamAsync(ct), 1024 * 1024);
        await send.SendAsync(new byte[100_000], ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 64 * 1024);
        var error = await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        Assert.Equal(ConecError.MessageTooLarge, error.Error);

        var stopped = await Assert.ThrowsAsync<ConecException>(() => send.Completion.WaitAsync(ct));
        Assert.Equal(ConecError.StreamStopped, stopped.Error);
        Assert.Equal(0x10, stopped.ApplicationErrorCode);
    }

    [Theory]
    [TransportModes]
    public async Task A_bogus_length_is_refused_from_the_header_without_waiting_for_the_payload(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var raw = await pair.Client.OpenStreamAsync(ct);
        await raw.WriteAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xF0, 1, 2 }, false, ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), FrameLimits.DefaultMaxMessageSize);
        var error = await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        Assert.Equal(ConecError.MessageTooLarge, error.Error);

        // A QUIC stream collected by the GC is aborted by its finalizer, which would race the header above.
        GC.KeepAlive(raw);
    }

    [Theory]
    [TransportModes]
    public async Task A_stream_that_ends_inside_a_message_is_an_error(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var raw = await pair.Client.OpenStreamAsync(ct);
        await raw.WriteAsync(new byte[] { 0, 0, 0, 2, 42, 0, 0, 0, 0, 10, 1, 2, 3 }, completeWrites: true, ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 1024);
        Assert.Equal(new byte[] { 42, 0 }, await receive.ReadAsync(ct));
        var error = await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        Assert.Equal(ConecError.TruncatedMessage, error.Error);
        GC.KeepAlive(raw);
    }

    [Theory]
    [TransportModes]
    public async Task Messages_buffered_together_arrive_before_an_oversize_header_that_follows_them(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var raw = await pair.Client.OpenStreamAsync(ct);

        // One write, so the reader finds every message and the bad header in the same buffered read.
        var bytes = new List<byte>();
        for (byte i = 0; i < 50; i++)
        {
            bytes.AddRange([0, 0, 0, 1, i]);
        }

        bytes.AddRange([0, 0, 4, 1]); // 1,025 bytes, over the 1,024 limit
        await raw.WriteAsync(bytes.ToArray(), false, ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 1024);
        for (byte i = 0; i < 50; i++)
        {
            Assert.Equal(new[] { i }, await receive.ReadAsync(ct));
        }

        var error = await Assert.ThrowsAsync<ConecException>(async () => await receive.ReadAsync(ct));
        Assert.Equal(ConecError.MessageTooLarge, error.Error);
        GC.KeepAlive(raw);
    }

    [Theory]
    [TransportModes]
    public async Task A_reader_of_small_messages_keeps_returning_credit_to_a_sender_far_past_the_window(TransportMode mode)
    {
        // The reader gives consumed bytes back in batches; if it held them until its buffer ran dry, a sender
        // blocked on a 4 KiB window would wait for a reader waiting for data, and this would time out.
        var settings = new TransportSettings { StreamReceiveWindow = 4096, ConnectionReceiveWindow = 4096 };
        await using var pair = await TransportPair.StartAsync(mode, settings, settings);
        var ct = Timeouts.Token();
        var send = new OutStream(await pair.Client.OpenStreamAsync(ct), 1024);
        const int count = 20_000; // 1.4 MB of 64-byte messages through a 4 KiB window
        var sending = Task.Run(async () =>
        {
            var message = new byte[64];
            for (var i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(message, i);
                await send.SendAsync(message, ct);
            }

            await send.FinishAsync(ct);
        }, ct);

        await using var receive = new InStream(await pair.Server.AcceptStreamAsync(ct), 1024);
        var next = 0;
        while (await receive.ReadSequenceAsync(ct) is { } message)
        {
            Assert.Equal(next++, BitConverter.ToInt32(message.Slice(0, 4).ToArray()));
        }

        await sending;
        Assert.Equal(count, next);
    }
}
