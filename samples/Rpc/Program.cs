using Conec;
using Conec.Samples;
using Conec.Samples.Rpc;

// A typed service called through the coordinator: results, a remote exception, concurrent calls, and a call
// cancelled by the caller whose cancellation reaches the server's handler.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var ct = timeout.Token;
await using var cluster = new SampleCluster();
await cluster.StartAsync(ct);
await using var server = await cluster.ConnectAsync("calculator", ct);
await using var caller = await cluster.ConnectAsync("caller", ct);
var calculator = new Calculator();
var serving = Task.Run(async () =>
{
    await foreach (var stream in server.IncomingStreams.WithCancellation(ct))
    {
        _ = CalculatorServer.ServeAsync(calculator, stream, cancellationToken: ct);
    }
}, ct);

await using var client = new CalculatorClient(await caller.NewProxiedStreamAsync("calculator", ct));
var checks = new List<(string Name, bool Passed)>();
checks.Add(("2 + 3 = 5", await client.Add(2, 3) == 5));
try
{
    await client.Divide(1, 0);
    checks.Add(("division by zero is a remote exception", false));
}
catch (ConecRemoteException e)
{
    checks.Add(($"division by zero is a remote {e.RemoteType}", e.RemoteType == typeof(DivideByZeroException).FullName));
}

var sums = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => client.Add(i, i).AsTask()));
checks.Add(("100 concurrent calls", sums.SequenceEqual(Enumerable.Range(0, 100).Select(i => 2 * i))));

using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);
var slow = client.SlowSquare(9, cancel.Token).AsTask();
await calculator.SlowStarted.Task.WaitAsync(ct);
await cancel.CancelAsync();
var cancelled = false;
try
{
    await slow;
}
catch (OperationCanceledException)
{
    cancelled = true;
}

checks.Add(("a cancelled call ends at the caller and at the server", cancelled && await calculator.SlowCancelled.Task.WaitAsync(ct) is { }));
foreach (var (name, passed) in checks)
{
    Console.WriteLine($"{(passed ? "ok  " : "FAIL")} {name}");
}

var ok = checks.All(c => c.Passed);
Console.WriteLine(ok ? "OK: every RPC check passed." : "FAILED.");
return ok ? 0 : 1;
