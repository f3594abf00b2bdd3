using System.Diagnostics;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>Connection close, idle timeout and keep-alive, on every transport.</summary>
public sealed class ConnectionLifecycleTests
{
    [Theory]
    [TransportModes]
    public async Task Closing_a_connection_fails_every_stream_on_both_sides_with_the_code(TransportMode mode)
    {
        await using var pair = await TransportPair.StartAsync(mode);
        var ct = Timeouts.Token();
        var streams = new List<TransportStream>();
        for (var i = 0; i < 3; i++)
        {
            var stream = await pair.Client.OpenStreamAsync(ct);
            await stream.WriteAsync(new byte[] { 1 }, false, ct);
            streams.Add(stream);
            var accepted = await pair.Server.AcceptStreamAsync(ct);
            var first = await accepted.Input.ReadAsync(ct);
            accepted.Input.AdvanceTo(first.Buffer.End);
        }

        await pair.Server.CloseAsync(77, "maintenance", ct);

        var closed = await pair.Client.Closed.WaitAsync(ct);
        Assert.Equal(ConecError.ConnectionClosed, closed.Error);
        Assert.Equal(77, closed.ApplicationErrorCode);
        if (mode == TransportMode.Tcp)
        {
            Assert.Contains("maintenance", closed.Message, StringComparison.Ordinal);
        }

        foreach (var stream in streams)
        {
            var read = await Assert.ThrowsAsync<ConecException>(() => StreamIo.ReadToEndAsync(stream, ct));
            Assert.Equal(ConecError.ConnectionClosed, read.Error);
            var write = await Assert.ThrowsAsync<ConecException>(async () => await stream.WriteAsync(new byte[1], false, ct));
            Assert.Equal(ConecError.ConnectionClosed, write.Error);
        }

        var open = await Assert.ThrowsAsync<ConecException>(async () => await pair.Client.OpenStreamAsync(ct));
        Assert.Equal(ConecError.ConnectionClosed, open.Error);
        var local = await pair.Server.Closed.WaitAsync(ct);
        Assert.Equal(ConecError.ConnectionAborted, local.Error);
    }

    [Theory]
    [TransportModes]
    public async Task An_idle_connection_without_keep_alive_closes_after_the_idle_timeout(TransportMode mode)
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        var idle = new TransportSettings { IdleTimeout = timeout, KeepAliveInterval = null };

        // Started before the connection exists, so before the last packet either side received; the certificates are
        // made first, so that the clock measures little more than the handshake before the timer starts.
        _ = (TestCertificates.Server, TestCertificates.Client);
        var clock = Stopwatch.StartNew();
        await using var pair = await TransportPair.StartAsync(mode, server: idle, client: idle);

        var closed = await pair.Client.Closed.WaitAsync(Timeouts.Token(TimeSpan.FromSeconds(10)));
        var elapsed = clock.Elapsed;
        Assert.Equal(ConecError.ConnectionIdle, closed.Error);
        Timeouts.AssertAfterTimeout(elapsed, timeout, "The idle connection closed");
    }

    [Theory]
    [TransportModes]
    public async Task Keep_alive_keeps_an_idle_connection_open_past_the_idle_timeout(TransportMode mode)
    {
        var server = new TransportSettings { IdleTimeout = TimeSpan.FromMilliseconds(600), KeepAliveInterval = null };
        var client = new TransportSettings { IdleTimeout = TimeSpan.FromMilliseconds(600), KeepAliveInterval = TimeSpan.FromMilliseconds(150) };
        await using var pair = await TransportPair.StartAsync(mode, server, client);

        // Four idle timeouts pass; only the client's pings keep both sides' timers from firing.
        Assert.False(await Timeouts.CompletesWithin(Task.WhenAny(pair.Client.Closed, pair.Server.Closed), TimeSpan.FromMilliseconds(2400)));
        var ct = Timeouts.Token();
        var stream = await pair.Client.OpenStreamAsync(ct);
        await stream.WriteAsync("still here"u8.ToArray(), true, ct);
        Assert.Equal("still here"u8.ToArray(), await StreamIo.ReadToEndAsync(await pair.Server.AcceptStreamAsync(ct), ct));
    }
}
