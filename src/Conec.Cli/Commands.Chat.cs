using System.CommandLine;

namespace Conec.Cli;

/// <summary>`conec chat`: a client in a broadcast room, reading lines from standard input.</summary>
internal static partial class Commands
{
    private static Command ChatCommand()
    {
        var id = new Option<string>("--id") { Description = "Your client id (a DNS name).", Required = true };
        var coord = new Option<HostAndPort[]?>("--coord")
        {
            Description = "The coordinator, HOST[:PORT], or the nodes of a cluster, HOST[:PORT],HOST[:PORT]… (tried from a random one; reconnects go to the others).",
            Required = true,
            CustomParser = OptionParsers.Endpoints("--coord"),
        };
        var trust = new ClientTrustOptions();
        var room = new Option<string>("--room") { Description = "The broadcast channel to join.", DefaultValueFactory = _ => "lobby" };
        var command = new Command("chat", "Chat in a room: type lines, see everybody's with their sender.") { id, coord };
        trust.AddTo(command);
        command.Options.Add(room);
        var sources = OptionSources.Of<ClientConfig>(
        [
            (nameof(ClientConfig.Id), "--id"),
            (nameof(ClientConfig.CoordinatorHost), "The host of --coord"),
            (nameof(ClientConfig.CoordinatorPort), "The port of --coord"),
            .. ClientTrustOptions.Sources,
        ]);
        command.SetAction((result, ct) => Guarded(result, sources, async () =>
        {
            var coordinators = result.GetValue(coord)!;
            var config = new ClientConfig(result.GetValue(id)!, coordinators[0].Host) { CoordinatorPort = coordinators[0].Port };
            if (coordinators.Length > 1)
            {
                // A cluster: every node answers to the first host's name in TLS, as nodes behind one service name do.
                foreach (var node in coordinators)
                {
                    foreach (var address in await ResolveAsync(node.Host, ct))
                    {
                        config.CoordinatorEndPoints.Add(new System.Net.IPEndPoint(address, node.Port));
                    }
                }
            }

            trust.Apply(result, config);
            await using var client = await Client.ConnectAsync(config, ct);
            QuicFallbackNotice.WriteOnce(config.Transport, Console.Error);
            var (send, receive) = await client.NewBroadcastAsync(result.GetValue(room)!, cancellationToken: ct);
            using var leaving = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var printing = Task.Run(async () =>
            {
                try
                {
                    await foreach (var (sender, message) in new LobbyBroadcastReader(receive).WithCancellation(leaving.Token))
                    {
                        if (message is LobbyMessage.Say say)
                        {
                            Console.WriteLine($"[{result.GetValue(room)}] {sender}: {say.Line.Text}");
                        }
                    }
                }
                catch (OperationCanceledException) when (leaving.IsCancellationRequested)
                {
                    // The user left: stop printing.
                }
            }, CancellationToken.None);
            var chat = new LobbySender(send);
            Console.WriteLine($"Joined {result.GetValue(room)} as {client.Id}. Type lines; an empty input or Ctrl+D leaves.");
            while (await Console.In.ReadLineAsync(ct) is { Length: > 0 } line)
            {
                await chat.Say(new ChatLine(line));
            }

            await send.FinishAsync(ct);
            await leaving.CancelAsync();
            await printing;
            await receive.DisposeAsync();
            return 0;
        }, error => trust.Advice(result, error)));
        return command;
    }

    private static async Task<System.Net.IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ConecException(ConecError.ConnectionRefused, $"The coordinator host '{host}' could not be resolved: {e.Message}", e);
        }
    }
}
