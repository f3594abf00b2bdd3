using System.Net;
using Conec;
using PackageConsumer;

// A coordinator, two clients, a generated RPC call to the coordinator and a typed broadcast: all from the package.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var ct = timeout.Token;
var server = ConecCertificates.CreateSelfSigned("localhost");
await using var coord = await Coord.StartAsync(new CoordConfig { Address = IPAddress.Loopback, Port = 0, Certificate = server, Transport = TransportMode.Tcp }, ct);
var serving = ServeAsync(coord, ct);
ClientConfig Config(string id) => new(id, "localhost")
{
    CoordinatorEndPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port),
    CoordinatorAuthority = server,
    TrustSystemRoots = false,
    Transport = TransportMode.Tcp,
};
await using var alice = await Client.ConnectAsync(Config("alice"), ct);
await using var bob = await Client.ConnectAsync(Config("bob"), ct);

await using (var greeter = new GreeterClient(await alice.NewProxiedStreamAsync(null, ct)))
{
    var greeting = await greeter.Greet(new Name("alice"), ct);
    Check(greeting == "hello, alice", $"RPC returned '{greeting}'");
}

var (aliceSends, _) = await alice.NewBroadcastAsync("room", cancellationToken: ct);
var (_, bobHears) = await bob.NewBroadcastAsync("room", cancellationToken: ct);
await new GreeterSender(aliceSends).Wave(new Name("everyone"));
await foreach (var (sender, message) in new GreeterBroadcastReader(bobHears).WithCancellation(ct))
{
    Check(sender == "alice" && message is GreeterMessage.Wave { Name.Text: "everyone" }, $"the broadcast carried {message} from {sender}");
    break;
}

Console.WriteLine("OK: the Conec.Runtime package brings its generator; RPC and a typed broadcast work.");
GC.KeepAlive(serving);
return 0;

static async Task ServeAsync(Coord coord, CancellationToken ct)
{
    await foreach (var stream in coord.IncomingStreams.WithCancellation(ct))
    {
        _ = GreeterServer.ServeAsync(new Greeter(), stream, cancellationToken: ct);
    }
}

static void Check(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException($"The package consumer failed: {what}.");
    }
}
