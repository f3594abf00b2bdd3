namespace Conec.Benchmarks;

/// <summary>How much each row moves: enough for stable figures, small enough for a 2-core machine.</summary>
internal sealed record BenchmarkScale(long BulkBytes, int Messages, int RoundTrips, int Repeats)
{
    public static readonly BenchmarkScale Full = new(BulkBytes: 512L * 1024 * 1024, Messages: 400_000, RoundTrips: 5_000, Repeats: 3);

    public static readonly BenchmarkScale Quick = new(BulkBytes: 64L * 1024 * 1024, Messages: 50_000, RoundTrips: 1_000, Repeats: 1);
}
