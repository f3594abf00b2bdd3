using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>Rows of (metric, Conec's figure, a named baseline measured in the same run, ratio, target).</summary>
internal sealed class RatioTable
{
    private readonly List<(string Metric, string Unit, double Value, string Baseline, double BaselineValue, bool LowerIsBetter, string Target, bool Ratio)> _rows = [];
    private readonly List<string> _notes = [];

    public void Add(string metric, string unit, double value, string baseline, double baselineValue, bool lowerIsBetter = false, string target = "") =>
        _rows.Add((metric, unit, value, baseline, baselineValue, lowerIsBetter, target, true));

    /// <summary>A figure with a target but no meaningful baseline to divide by (such as memory per client).</summary>
    public void AddAbsolute(string metric, string unit, double value, string target) =>
        _rows.Add((metric, unit, value, "-", double.NaN, false, target, false));

    /// <summary>A figure beside the baseline's, without a ratio: for figures that may be near zero or below (growth of memory).</summary>
    public void AddBeside(string metric, string unit, double value, string baseline, double baselineValue, bool lowerIsBetter = false) =>
        _rows.Add((metric, unit, value, baseline, baselineValue, lowerIsBetter, "", false));

    /// <summary>A line printed under the table, saying what some rows measure.</summary>
    public void Note(string text) => _notes.Add(text);

    public void Print(TextWriter output)
    {
        output.WriteLine($"{"metric",-50} {"Conec",12} {"baseline",-28} {"value",12} {"ratio",8}  target");
        foreach (var (metric, unit, value, baseline, baselineValue, lower, target, withRatio) in _rows)
        {
            var ratio = !withRatio || double.IsNaN(baselineValue) ? "-" : (value / baselineValue).ToString("0.00x", CultureInfo.InvariantCulture);
            var shown = double.IsNaN(baselineValue) ? "-" : baselineValue.ToString("N1", CultureInfo.InvariantCulture);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{metric + " (" + unit + ")",-50} {value,12:N1} {baseline,-28} {shown,12} {ratio,8}  {target}"));
        }

        output.WriteLine("Ratios are Conec's figure over the baseline's; for times, lower is better.");
        foreach (var note in _notes)
        {
            output.WriteLine(note);
        }
    }
}
