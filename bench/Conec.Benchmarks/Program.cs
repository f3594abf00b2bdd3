using Conec.Benchmarks;

// One run measures Conec's TCP transport against plain SslStream and Nerdbank.Streams' MultiplexingStream over
// the same TLS 1.3 loopback connections, and prints each row with its ratios, so every figure has its baseline.
var quick = args.Contains("--quick");
var results = await TransportBenchmark.RunAsync(quick ? BenchmarkScale.Quick : BenchmarkScale.Full);
results.Print(Console.Out);
