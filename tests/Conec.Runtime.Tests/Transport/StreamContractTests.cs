using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>The stream half of the transport contract (DESIGN.md §3), run against every transport.</summary>
public sealed class StreamContractTests
{
    [Theory]
    [TransportModes]
    public async Task Streams_open_from_either_side_carry_bytes_to_the_end(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();

        var fromClient = await pair.Client.OpenStreamAsync(ct);
        await fromClient.WriteAsync("to server"u8.ToArray(), completeWrites: true, ct);
        var atServer = await pair.Server.AcceptStreamAsync(ct);
        Assert.Equal("to server"u8.ToArray(), await StreamIo.ReadToEndAsync(atServer, ct));

        var fromServer = await pair.Server.OpenStreamAsync(ct);
        await fromServer.WriteAsync("to client"u8.ToArray(), completeWrites: true, ct);
        var atClient = await pair.Client.AcceptStreamAsync(ct);
        Assert.Equal("to client"u8.ToArray(), await StreamIo.ReadToEndAsync(atClient, ct));

        // The accepted side answers on the same stream: streams are bidirectional.
        await atServer.WriteAsync("reply"u8.ToArray(), completeWrites: true, ct);
        Assert.Equal("reply"u8.ToArray(), await StreamIo.ReadToEndAsync(fromClient, ct));
    }

    [Theory]
    [TransportModes]
    public async Task A_thousand_concurrent_streams_each_echo_their_own_data(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        const int count = 1000;

        var echo = Task.Run(async () =>
        {
            var handlers = new List<Task>();
            for (var i = 0; i < count; i++)
            {
                var stream = await pair.Server.AcceptStreamAsync(ct);
                handlers.Add(Task.Run(async () =>
                {
                    // Disposing lets QUIC finish the stream gracefully; a QuicStream left to the finalizer is aborted.
                    await using (stream)
                    {
                        var data = await StreamIo.ReadToEndAsync(stream, ct);
                        await stream.WriteAsync(data, completeWrites: true, ct);
                    }
                }, ct));
            }

            await Task.WhenAll(handlers);
        }, ct);

        var clients = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            var stream = await pair.Client.OpenStreamAsync(ct);
            var payload = StreamIo.Pattern(100 + (i % 50), i);
            await stream.WriteAsync(payload, completeWrites: true, ct);
            Assert.Equal(payload, await StreamIo.ReadToEndAsync(stream, ct));
            await stream.DisposeAsync();
        }, ct)).ToArray();

        await Task.WhenAll(clients);
        await echo;
    }

    [Theory]
    [TransportModes]
    public async Task Finish_abort_write_and_stop_sending_are_each_seen_with_their_outcome(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();

        var finished = await pair.Client.OpenStreamAsync(ct);
        await finished.WriteAsync("last words"u8.ToArray(), completeWrites: false, ct);
        finished.CompleteWrites();
        await finished.WritesClosed.WaitAsync(ct);
        var finishedPeer = await pair.Server.AcceptStreamAsync(ct);
        Assert.Equal("last words"u8.ToArray(), await StreamIo.ReadToEndAsync(finishedPeer, ct));

        var aborted = await pair.Client.OpenStreamAsync(ct);
        await aborted.WriteAsync("partial"u8.ToArray(), completeWrites: false, ct);
        var abortedPeer = await pair.Server.AcceptStreamAsync(ct);
        aborted.AbortWrite(42);
        var reset = await Assert.ThrowsAsync<ConecException>(() => StreamIo.ReadToEndAsync(abortedPeer, ct));
        Assert.Equal(ConecError.StreamAborted, reset.Error);
        Assert.Equal(42, reset.ApplicationErrorCode);

        var stopped = await pair.Client.OpenStreamAsync(ct);
        await stopped.WriteAsync("hello"u8.ToArray(), completeWrites: false, ct);
        var stoppedPeer = await pair.Server.AcceptStreamAsync(ct);
        stoppedPeer.AbortRead(7);
        var stop = await Assert.ThrowsAsync<ConecException>(() => stopped.WritesClosed.WaitAsync(ct));
        Assert.Equal(ConecError.StreamStopped, stop.Error);
        Assert.Equal(7, stop.ApplicationErrorCode);
        var write = await Assert.ThrowsAsync<ConecException>(async () => await stopped.WriteAsync(new byte[10], false, ct));
        Assert.Equal(ConecError.StreamStopped, write.Error);
    }

    [Theory]
    [TransportModes]
    public async Task A_writer_blocked_on_flow_control_wakes_with_an_error_when_the_reader_stops(TransportMode mode)
    {
        var small = new TransportSettings { StreamReceiveWindow = 64 * 1024 };
        await using var pair = await TransportPair.StartAsync(mode, server: small);
        var ct = Timeouts.Token();

        // Chunks until one blocks: QUIC accepts a first write into its send buffer whatever its size, so a single
        // large write would not show the window; the loop is bounded so a transport without back-pressure fails.
        var stream = await pair.Client.OpenStreamAsync(ct);
        var chunk = new byte[64 * 1024];
        Task? blocked = null;
        for (var i = 0; i < 512 && blocked is null; i++)
        {
            var write = stream.WriteAsync(chunk, completeWrites: false, ct).AsTask();
            if (!await Timeouts.CompletesWithin(write, TimeSpan.FromMilliseconds(300)))
            {
                blocked = write;
            }
        }

        Assert.NotNull(blocked);
        var peer = await pair.Server.AcceptStreamAsync(ct);
        peer.AbortRead(99);
        var error = await Assert.ThrowsAsync<ConecException>(() => blocked.WaitAsync(ct));
        Assert.Equal(ConecError.StreamStopped, error.Error);
        Assert.Equal(99, error.ApplicationErrorCode);
    }

    [Theory]
    [TransportModes]
    public async Task Back_pressure_bounds_unread_bytes_and_every_byte_arrives_once_after_the_reader_resumes(TransportMode mode)
    {
        const int window = 64 * 1024;
        var settings = new TransportSettings { StreamReceiveWindow = window };
        await using var pair = await TransportPair.StartAsync(mode, server: settings, client: settings);
        var ct = Timeouts.Token();
        var chunk = 4 * 1024;

        // TCP buffers nothing beyond the peer's window; msquic may also hold a send buffer of its own.
        long bound = mode == TransportMode.Tcp ? window : window + (4L * 1024 * 1024);
        var stream = await pair.Client.OpenStreamAsync(ct);
        long written = 0;
        Task? pending = null;
        while (pending is null)
        {
            var write = stream.WriteAsync(StreamIo.Pattern(chunk, (int)(written / chunk)), completeWrites: false, ct).AsTask();
            if (!await Timeouts.CompletesWithin(write, TimeSpan.FromMilliseconds(300)))
            {
                pending = write;
                break;
            }

            await write;
            written += chunk;
            Assert.True(written <= bound, $"{written} bytes were accepted by a reader that reads nothing; the bound is {bound}");
        }

        Assert.True(written >= window / 2, $"the writer blocked after only {written} bytes");
        var peer = await pair.Server.AcceptStreamAsync(ct);
        var reading = StreamIo.ReadToEndAsync(peer, ct);
        await pending.WaitAsync(ct);
        written += chunk;
        stream.CompleteWrites();

        var received = await reading;
        Assert.Equal(written, received.Length);
        for (var i = 0; i < written / chunk; i++)
        {
            Assert.Equal(StreamIo.Pattern(chunk, i), received.AsSpan(i * chunk, chunk).ToArray());
        }
    }

    [Theory]
    [TransportModes]
    public async Task Streams_whose_reader_caught_up_and_paused_leave_the_connection_window_to_the_others(TransportMode mode)
    {
        // 64 streams of 8 KiB each: twice the connection window. Each is read to its last byte and then left alone
        // (its reader busy elsewhere); a stream after them must still get its data, so reading everything must give
        // the connection credit back even though the reader never calls ReadAsync on that stream again.
        var settings = new TransportSettings { StreamReceiveWindow = 64 * 1024, ConnectionReceiveWindow = 256 * 1024 };
        await using var pair = await TransportPair.StartAsync(mode, server: settings, client: settings);
        var ct = Timeouts.Token();
        // Held to the end, one list per task: a collected QUIC stream is aborted by its finalizer.
        var sent = new List<TransportStream>();
        var accepted = new List<TransportStream>();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 64; i++)
            {
                var stream = await pair.Client.OpenStreamAsync(ct);
                sent.Add(stream);
                await stream.WriteAsync(StreamIo.Pattern(8 * 1024, i), completeWrites: false, ct);
            }

            var last = await pair.Client.OpenStreamAsync(ct);
            sent.Add(last);
            await last.WriteAsync(StreamIo.Pattern(1024 * 1024, 64), completeWrites: true, ct);
        }, ct);

        for (var i = 0; i < 64; i++)
        {
            var stream = await pair.Server.AcceptStreamAsync(ct);
            accepted.Add(stream);
            var received = 0L;
            while (received < 8 * 1024)
            {
                var result = await stream.Input.ReadAsync(ct);
                received += result.Buffer.Length;
                stream.Input.AdvanceTo(result.Buffer.End);
            }

            Assert.Equal(8 * 1024, received);
        }

        var tail = await StreamIo.ReadToEndAsync(await pair.Server.AcceptStreamAsync(ct), ct);
        Assert.Equal(StreamIo.Pattern(1024 * 1024, 64), tail);
        await sending.WaitAsync(ct);
        GC.KeepAlive(sent);
        GC.KeepAlive(accepted);
    }
}
