using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>
/// Ratios measured pair by pair: Conec and a baseline run alternately, each pair's ratio is taken at once, and the
/// median of the pairs is reported with its range.
/// </summary>
/// <remarks>
/// On a shared 2-core machine the speed available drifts by up to 2x within a minute. A best-of-N per variant,
/// measured in separate blocks, lets each variant's best moment land in a different phase of that drift; two runs
/// taken back to back see nearly the same machine, so their ratio is steadier than either figure. Every other pair
/// runs the baseline first, so that whatever the first run of a pair leaves behind (a collection due, warm or cold
/// caches, a thread pool grown or shrunk) falls on both sides alike.
/// </remarks>
internal sealed class PairedRatios
{
    private readonly List<(string Metric, string Baseline, double Median, double Low, double High, string Target)> _rows = [];
    private readonly List<string> _notes = [];

    /// <summary>A line printed under the table, saying what some rows measure.</summary>
    public void Note(string text) => _notes.Add(text);

    public Task AddAsync(string metric, Func<Task<double>> conec, string baseline, Func<Task<double>> measureBaseline, int pairs, string target = "") =>
        AddFiguresAsync([metric], async () => [await conec()], baseline, async () => [await measureBaseline()], pairs, [target]);

    /// <summary>
    /// Rows for several figures of one run (such as p50 and p99 of one set of calls): each pair of runs gives one
    /// ratio per figure, and each figure is reported as its own row, in the order of <paramref name="metrics"/>.
    /// </summary>
    public async Task AddFiguresAsync(
        IReadOnlyList<string> metrics, Func<Task<double[]>> conec, string baseline, Func<Task<double[]>> measureBaseline, int pairs, IReadOnlyList<string> targets)
    {
        await SteadyState.WarmUpAsync(conec);
        await SteadyState.WarmUpAsync(measureBaseline);
        var ratios = metrics.Select(_ => new List<double>(pairs)).ToArray();
        for (var i = 0; i < pairs; i++)
        {
            double[] ours, theirs;
            if (i % 2 == 0)
            {
                ours = await conec();
                theirs = await measureBaseline();
            }
            else
            {
                theirs = await measureBaseline();
                ours = await conec();
            }

            for (var figure = 0; figure < metrics.Count; figure++)
            {
                ratios[figure].Add(ours[figure] / theirs[figure]);
            }
        }

        for (var figure = 0; figure < metrics.Count; figure++)
        {
            var sorted = ratios[figure];
            sorted.Sort();
            var median = pairs % 2 == 1 ? sorted[pairs / 2] : (sorted[(pairs / 2) - 1] + sorted[pairs / 2]) / 2;
            _rows.Add((metrics[figure], baseline, median, sorted[0], sorted[^1], targets[figure]));
        }
    }

    public void Print(TextWriter output, int pairs)
    {
        output.WriteLine($"{"metric",-34} {"baseline",-22} {"median",8} {"range",14}  target");
        foreach (var (metric, baseline, median, low, high, target) in _rows)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{metric,-34} {baseline,-22} {median,7:0.00}x {low,6:0.00}-{high,4:0.00}x  {target}"));
        }

        output.WriteLine($"Each ratio is the median of {pairs} pairs of back-to-back runs (Conec's figure over the baseline's).");
        foreach (var note in _notes)
        {
            output.WriteLine(note);
        }
    }
}
