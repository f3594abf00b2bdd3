using Conec;
using Conec.Samples;
using Conec.Samples.Chat;

// A typed chat over a broadcast: three clients each say two lines; every client must hear all six, each with the
// id of the client that said it (stamped by the coordinator, not claimed by the sender).
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var ct = timeout.Token;
await using var cluster = new SampleCluster();
await cluster.StartAsync(ct);
string[] names = ["alice", "bob", "carol"];
var clients = new List<Client>();
var rooms = new List<StreamPair>();
foreach (var name in names)
{
    var client = await cluster.ConnectAsync(name, ct);
    clients.Add(client);
    rooms.Add(await client.NewBroadcastAsync("room", cancellationToken: ct));
}

var listening = rooms.Select(room => Task.Run(async () =>
{
    var heard = new List<string>();
    await foreach (var (sender, message) in new RoomBroadcastReader(room.Receive).WithCancellation(ct))
    {
        if (message is RoomMessage.Post post)
        {
            heard.Add($"{sender}: {post.Line.Text}");
        }
    }

    return heard;
}, ct)).ToArray();

for (var round = 1; round <= 2; round++)
{
    for (var i = 0; i < names.Length; i++)
    {
        await new RoomSender(rooms[i].Send).Post(new Line($"line {round} from {names[i]}"));
    }
}

foreach (var room in rooms)
{
    await room.Send.FinishAsync(ct);
}

var transcripts = await Task.WhenAll(listening);
foreach (var line in transcripts[0])
{
    Console.WriteLine(line);
}

var expected = names.SelectMany(n => new[] { $"{n}: line 1 from {n}", $"{n}: line 2 from {n}" }).Order().ToArray();
var ok = transcripts.All(t => t.Order().SequenceEqual(expected)) && transcripts.All(t => t.SequenceEqual(transcripts[0]));
Console.WriteLine(ok ? "OK: every client heard all six lines, in the same order, with the right senders." : "FAILED: the transcripts differ.");
foreach (var client in clients)
{
    await client.DisposeAsync();
}

return ok ? 0 : 1;
