using Conec;
using Conec.Samples;
using Conec.Samples.Aot;

// Published with Native AOT (dotnet publish -r linux-x64): an RPC round trip, a call streaming both ways through a
// server filter, and a typed broadcast against a coordinator, all through generated code and generated MessagePack
// formatters, with no JIT and no Reflection.Emit.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var ct = timeout.Token;
await using var cluster = new SampleCluster();
await cluster.StartAsync(ct);
await using var station = await cluster.ConnectAsync("station", ct);
await using var sensor = await cluster.ConnectAsync("sensor", ct);

var log = new CallLog();
var options = new RpcServerOptions();
options.Filters.Add(log);
var serving = Task.Run(async () =>
{
    await foreach (var stream in station.IncomingStreams.WithCancellation(ct))
    {
        _ = SensorsServer.ServeAsync(new Averager(), stream, options, ct);
    }
}, ct);

await using var rpc = new SensorsClient(await sensor.NewProxiedStreamAsync("station", ct));
var average = await rpc.Average([new Reading("a", 20), new Reading("b", 22)], ct);
Console.WriteLine($"RPC: average of 20 and 22 is {average.Celsius} ({average.Sensor})");

var smoothed = new List<double>();
await foreach (var answer in rpc.Smooth(Readings(ct), ct))
{
    smoothed.Add(answer.Celsius);
}

Console.WriteLine($"duplex: running averages {string.Join(", ", smoothed)}; filter saw: {string.Join("; ", log.Calls)}");

var (send, receive) = await station.NewBroadcastAsync("readings", cancellationToken: ct);
await new SensorsSender(send).Publish(new Reading("sensor-7", 21.5));
var heard = await new SensorsBroadcastReader(receive).ReceiveAsync(ct);
var (from, message) = heard!.Value;
var reading = ((SensorsMessage.Publish)message).Reading;
Console.WriteLine($"broadcast: {from} published {reading.Sensor} = {reading.Celsius}");

var ok = average.Celsius == 21 && smoothed.SequenceEqual([10.0, 15.0, 20.0]) && log.Calls.Contains("sensor called Smooth")
    && from == "station" && reading == new Reading("sensor-7", 21.5);
Console.WriteLine(ok ? "OK: RPC, duplex streaming, a filter and broadcast work in a Native AOT binary." : "FAILED.");
return ok ? 0 : 1;

static async IAsyncEnumerable<Reading> Readings([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
{
    foreach (var celsius in new[] { 10.0, 20.0, 30.0 })
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        yield return new Reading("sensor", celsius);
    }
}
