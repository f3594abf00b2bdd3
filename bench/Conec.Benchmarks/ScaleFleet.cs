using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>
/// The scale benchmark's client processes: the clients spread over several, since each process has its own
/// descriptor limit (the coordinator's clients would otherwise all count against one). Commands go to every process
/// still running at once, and the answers are awaited together.
/// </summary>
internal sealed class ScaleFleet : IAsyncDisposable
{
    /// <summary>Clients per process: a few thousand descriptors each, well inside a limit of 20,000.</summary>
    public const int ClientsPerProcess = 2_500;

    private readonly List<ScaleClientsProcess> _processes = [];

    private ScaleFleet()
    {
    }

    public IReadOnlyList<ScaleClientsProcess> Processes => _processes;

    /// <summary>How many processes hold <paramref name="clients"/>: <see cref="ClientsPerProcess"/> each, and at least two.</summary>
    public static int ProcessesFor(int clients) => Math.Max(2, (clients + ClientsPerProcess - 1) / ClientsPerProcess);

    /// <summary>
    /// Starts <paramref name="processes"/> children sharing <paramref name="clients"/> clients, and returns once every
    /// one has made its identities, with the seconds that took (all of them, and the slowest process's own figure).
    /// </summary>
    public static async Task<(ScaleFleet Fleet, double Seconds, double SlowestProcess)> StartAsync(
        string authorityPath, int clients, int processes, int concurrency, TimeSpan limit)
    {
        var fleet = new ScaleFleet();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var k = 0; k < processes; k++)
            {
                var first = (int)((long)clients * k / processes);
                var next = (int)((long)clients * (k + 1) / processes);
                fleet._processes.Add(ScaleClientsProcess.Start(authorityPath, first, next - first, concurrency));
            }

            var ready = await fleet.ReadAsync(limit, "Making the client identities");
            var slowest = ready.Max(line => line.Split(' ') is ["ready", var seconds]
                ? double.Parse(seconds, CultureInfo.InvariantCulture)
                : throw new InvalidOperationException($"A client process said '{line}' at start."));
            return (fleet, clock.Elapsed.TotalSeconds, slowest);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends each running process its <paramref name="command"/>, then awaits one answer from each.</summary>
    public async Task<string[]> AskAsync(Func<ScaleClientsProcess, string> command, TimeSpan limit, string what)
    {
        foreach (var process in Running())
        {
            await process.SendAsync(command(process));
        }

        return await ReadAsync(limit, what);
    }

    public Task<string[]> AskAsync(string command, TimeSpan limit, string what) => AskAsync(_ => command, limit, what);

    /// <summary>The next line of each running process, in the order of <see cref="Processes"/>.</summary>
    public Task<string[]> ReadAsync(TimeSpan limit, string what) =>
        Task.WhenAll(Running().Select(process => process.ReadAsync(limit, what)));

    /// <summary>Each running process's <see cref="OutcomeTally"/> answer to <paramref name="command"/>, summed, with the slowest process's seconds.</summary>
    public async Task<(OutcomeTally Total, OutcomeTally[] Each, double Seconds)> TallyAsync(
        Func<ScaleClientsProcess, string> command, string word, TimeSpan limit, string what)
    {
        var each = (await AskAsync(command, limit, what)).Select(line => OutcomeTally.Parse(line, word)).ToArray();
        var total = new OutcomeTally();
        foreach (var (tally, _) in each)
        {
            total.Add(tally);
        }

        return (total, each.Select(e => e.Tally).ToArray(), each.Max(e => e.Seconds));
    }

    /// <summary>The running processes' user plus system time so far, summed.</summary>
    public TimeSpan ProcessorTime => Running().Aggregate(TimeSpan.Zero, (sum, p) => sum + p.ProcessorTime);

    public IEnumerable<ScaleClientsProcess> Running() => _processes.Where(p => !p.HasExited);

    /// <summary>Every process asked to exit at once; any that does not in time is killed.</summary>
    public async ValueTask DisposeAsync() => await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask()));
}
