using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>One shared timer checks every connection's idle and keep-alive deadlines; closed connections leave it.</summary>
public sealed class ConnectionSweepTests
{
    [Fact]
    public async Task Every_registered_check_runs_on_each_tick_until_its_registration_is_disposed()
    {
        var tick = TimeSpan.FromMilliseconds(13); // a tick no other test uses, so the count is this test's own
        var calls = new int[3];
        var seen = Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var registrations = Enumerable.Range(0, 3).Select(i => ConnectionSweep.Register(tick, _ =>
        {
            if (Interlocked.Increment(ref calls[i]) == 3)
            {
                seen[i].TrySetResult();
            }
        })).ToArray();

        await Task.WhenAll(seen.Select(s => s.Task)).WaitAsync(Timeouts.Token());
        Assert.Equal(3, ConnectionSweep.CountAt(tick));

        registrations[1].Dispose();
        registrations[1].Dispose(); // twice is harmless
        Assert.Equal(2, ConnectionSweep.CountAt(tick));
        registrations[0].Dispose();
        registrations[2].Dispose();
        Assert.Equal(0, ConnectionSweep.CountAt(tick));
    }

    [Fact]
    public async Task A_connection_is_in_the_sweep_while_open_and_leaves_it_when_closed()
    {
        // 8 x 11 ms: the sweep ticks at an eighth of the idle timeout, at an interval only this test uses.
        var settings = new TransportSettings { IdleTimeout = TimeSpan.FromMilliseconds(88 * 1000), KeepAliveInterval = null };
        var tick = TimeSpan.FromMilliseconds(11 * 1000);
        await using (var pair = await TransportPair.StartAsync(TransportMode.Tcp, settings, settings))
        {
            Assert.Equal(2, ConnectionSweep.CountAt(tick));
        }

        Assert.Equal(0, ConnectionSweep.CountAt(tick));
    }
}
