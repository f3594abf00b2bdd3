using Conec;
using Conec.Samples;
using Conec.Samples.Aot;

// Published with Native AOT (dotnet publish -r linux-x64): an RPC round trip and a typed broadcast against a
// coordinator, all through generated code and generated MessagePack formatters, with no JIT and no Reflection.Emit.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var ct = timeout.Token;
await using var cluster = new SampleCluster();
await cluster.StartAsync(ct);
await using var station = await cluster.ConnectAsync("station", ct);
await using var sensor = await cluster.ConnectAsync("sensor", ct);

var serving = Task.Run(async () =>
{
    await foreach (var stream in station.IncomingStreams.WithCancellation(ct))
    {
        _ = SensorsServer.ServeAsync(new Averager(), stream, cancellationToken: ct);
    }
}, ct);

await using var rpc = new SensorsClient(await sensor.NewProxiedStreamAsync("station", ct));
var average = await rpc.Average([new Reading("a", 20), new Reading("b", 22)], ct);
Console.WriteLine($"RPC: average of 20 and 22 is {average.Celsius} ({average.Sensor})");

var (send, receive) = await station.NewBroadcastAsync("readings", cancellationToken: ct);
await new SensorsSender(send).Publish(new Reading("sensor-7", 21.5));
var heard = await new SensorsBroadcastReader(receive).ReceiveAsync(ct);
var (from, message) = heard!.Value;
var reading = ((SensorsMessage.Publish)message).Reading;
Console.WriteLine($"broadcast: {from} published {reading.Sensor} = {reading.Celsius}");

var ok = average.Celsius == 21 && from == "station" && reading == new Reading("sensor-7", 21.5);
Console.WriteLine(ok ? "OK: RPC and broadcast work in a Native AOT binary." : "FAILED.");
return ok ? 0 : 1;
