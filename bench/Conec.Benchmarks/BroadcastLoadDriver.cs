using System.Diagnostics;
using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>The parent's side of <see cref="BroadcastLoadProcess"/>: starts the child, runs the broadcast on command, and stops it.</summary>
internal sealed class BroadcastLoadDriver : IAsyncDisposable
{
    private readonly Process _process;

    private BroadcastLoadDriver(Process process) => _process = process;

    public static async Task<BroadcastLoadDriver> StartAsync(string coordinatorCertificatePath, int port, int members)
    {
        var process = CoordinatorProcess.StartSelf(BroadcastLoadProcess.Mode, coordinatorCertificatePath,
            port.ToString(CultureInfo.InvariantCulture), members.ToString(CultureInfo.InvariantCulture));
        var driver = new BroadcastLoadDriver(process);
        try
        {
            await driver.ExpectAsync("ready", Deadline.Setup);
            return driver;
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts sending: flat out, or <paramref name="perSecond"/> messages a second.</summary>
    public async Task StartAsync(double? perSecond = null)
    {
        await _process.StandardInput.WriteLineAsync(perSecond is { } rate ? string.Create(CultureInfo.InvariantCulture, $"half {rate}") : "flat");
        await ExpectAsync("started", Deadline.Stop);
    }

    /// <summary>Stops sending; returns how many messages were sent, deliveries to all members, and the seconds it ran.</summary>
    public async Task<(long Sent, long Delivered, double Seconds)> StopAsync()
    {
        await _process.StandardInput.WriteLineAsync("stop");
        var line = await _process.StandardOutput.ReadLineAsync().WithinAsync(Deadline.Stop, "The broadcast child's stop");
        return line?.Split(' ') is ["sent", var sent, "delivered", var delivered, "seconds", var seconds]
            ? (long.Parse(sent, CultureInfo.InvariantCulture), long.Parse(delivered, CultureInfo.InvariantCulture), double.Parse(seconds, CultureInfo.InvariantCulture))
            : throw new InvalidOperationException($"The broadcast child said '{line}' when stopped.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("exit");
                await _process.WaitForExitAsync().WithinAsync(Deadline.Setup, "The broadcast child's exit");
            }
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }

    private async Task ExpectAsync(string word, TimeSpan limit)
    {
        var line = await _process.StandardOutput.ReadLineAsync().WithinAsync(limit, $"The broadcast child's '{word}'");
        if (line != word)
        {
            throw new InvalidOperationException($"The broadcast child said '{line}' where '{word}' was expected.");
        }
    }
}
