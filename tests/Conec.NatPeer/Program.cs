using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Conec;

// A client for the NAT tests, run inside a network namespace (ip netns exec). It prints one line per step, which the
// test reads. Arguments: id, coordinator address, coordinator port, coordinator certificate (PEM), then
//   echo                  echo every stream opened to it, until its input closes;
//   open <peer> <count>   open a direct channel to <peer> and exchange <count> checked messages on it, then ask
//                         NewStreamAsync for a stream (direct if the channel stands, else proxied) and check it too.
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: Conec.NatPeer <id> <coordinator address> <port> <coordinator.pem> echo | open <peer> <count>");
    return 2;
}

using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var ct = limit.Token;
var config = new ClientConfig(args[0], "localhost")
{
    CoordinatorEndPoint = new IPEndPoint(IPAddress.Parse(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture)),
    CoordinatorAuthority = ConecCertificates.LoadChain(args[3])[0],
    TrustSystemRoots = false,
    Transport = TransportMode.Tcp,
};
await using var client = await Client.ConnectAsync(config, ct);
Console.WriteLine($"connected {client.LocalEndPoint}");

if (args[4] == "echo")
{
    _ = Task.Run(async () =>
    {
        await foreach (var incoming in client.IncomingStreams.WithCancellation(ct))
        {
            Console.WriteLine($"incoming {incoming.Peer} {incoming.Kind}");
            _ = Task.Run(async () =>
            {
                await foreach (var message in incoming.Receive.WithCancellation(ct))
                {
                    await incoming.Send.SendAsync(message, ct);
                }

                await incoming.Send.FinishAsync(ct);
            }, ct);
        }
    }, ct);

    // The test ends this side by closing its input.
    await Console.In.ReadToEndAsync(ct);
    return 0;
}

var peer = args[5];
var count = int.Parse(args[6], CultureInfo.InvariantCulture);
var clock = Stopwatch.StartNew();
try
{
    await client.NewChannelAsync(peer, ct);
    Console.WriteLine($"channel ok {clock.ElapsedMilliseconds}");
    await ExchangeAsync(await client.NewDirectStreamAsync(peer, ct), "direct");
}
catch (ConecException e)
{
    Console.WriteLine($"channel failed {e.Error} {clock.ElapsedMilliseconds} {e.Message}");
}

clock.Restart();
var pair = await client.NewStreamAsync(peer, ct);
Console.WriteLine($"stream {pair.Kind} {clock.ElapsedMilliseconds}");
await ExchangeAsync(pair, "stream");
return 0;

async Task ExchangeAsync(StreamPair pair, string what)
{
    for (var i = 0; i < count; i++)
    {
        var message = new byte[1024];
        BinaryPrimitives.WriteInt32BigEndian(message, i);
        message.AsSpan(4).Fill((byte)i);
        await pair.Send.SendAsync(message, ct);
        var echoed = await pair.Receive.ReadAsync(ct);
        if (echoed is null || !echoed.AsSpan().SequenceEqual(message))
        {
            Console.WriteLine($"{what} corrupted at {i}");
            return;
        }
    }

    await pair.Send.FinishAsync(ct);
    Console.WriteLine($"{what} ok {count}");
}
