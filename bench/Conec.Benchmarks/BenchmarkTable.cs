using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>Rows of (metric, Conec, SslStream, MultiplexingStream) with ratios against both baselines.</summary>
internal sealed class BenchmarkTable
{
    private readonly List<(string Metric, string Unit, double Conec, double? Ssl, double Mux, bool LowerIsBetter)> _rows = [];

    public void Add(string metric, string unit, double conec, double? ssl, double mux, bool lowerIsBetter = false) =>
        _rows.Add((metric, unit, conec, ssl, mux, lowerIsBetter));

    public void Print(TextWriter output)
    {
        output.WriteLine($"{"metric",-34} {"Conec TCP",12} {"SslStream",12} {"Nerdbank MX",12} {"vs Ssl",8} {"vs MX",8}");
        foreach (var (metric, unit, conec, ssl, mux, lower) in _rows)
        {
            var vsSsl = ssl is { } s ? Ratio(conec, s, lower) : "-";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{metric + " (" + unit + ")",-34} {conec,12:N1} {(ssl is { } v ? v.ToString("N1", CultureInfo.InvariantCulture) : "-"),12} {mux,12:N1} {vsSsl,8} {Ratio(conec, mux, lower),8}"));
        }

        output.WriteLine("Ratios are Conec's figure over the baseline's (inverted for latency, so above 1 is better).");
    }

    private static string Ratio(double conec, double baseline, bool lowerIsBetter) =>
        (lowerIsBetter ? baseline / conec : conec / baseline).ToString("0.00x", CultureInfo.InvariantCulture);
}
