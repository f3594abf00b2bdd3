using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Conec.Cli;

/// <summary>The `conec` commands. Each returns an exit code; failures print one line saying what to do.</summary>
internal static class Commands
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Print full exception details on failure.", Recursive = true };

    public static RootCommand Build()
    {
        var root = new RootCommand("Conec: coordinated network channels for .NET.");
        root.Options.Add(Verbose);
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(CoordCommand());
        root.Subcommands.Add(CertsCommand());
        root.Subcommands.Add(ChatCommand());
        root.Subcommands.Add(BenchCommand());
        return root;
    }

    private static Command DemoCommand()
    {
        var command = new Command("demo", "Run a coordinator and three clients on loopback and show what Conec does (under a minute).");
        command.SetAction((result, ct) => Guarded(result, async () =>
        {
            await Demo.RunAsync(Console.Out, ct);
            return 0;
        }));
        return command;
    }

    private static Command CoordCommand()
    {
        var port = new Option<int>("--port") { Description = "The port to listen on.", DefaultValueFactory = _ => 1719 };
        var address = new Option<string>("--address") { Description = "The address to listen on.", DefaultValueFactory = _ => "0.0.0.0" };
        var cert = new Option<FileInfo?>("--cert") { Description = "The coordinator's certificate (PEM)." };
        var key = new Option<FileInfo?>("--key") { Description = "The certificate's private key (PEM)." };
        var dev = new Option<bool>("--dev") { Description = "Use a development CA and localhost certificate, made once under your profile." };
        var clientCa = new Option<FileInfo?>("--client-ca") { Description = "Admit only clients whose certificate this CA signed." };
        var transport = new Option<TransportMode>("--transport") { Description = "Auto (QUIC where the machine has it, else TCP), Quic or Tcp.", DefaultValueFactory = _ => TransportMode.Auto };
        var command = new Command("coord", "Run a coordinator until Ctrl+C.") { port, address, cert, key, dev, clientCa, transport };
        command.SetAction((result, ct) => Guarded(result, async () =>
        {
            var config = new CoordConfig
            {
                Port = result.GetValue(port),
                Address = IPAddress.Parse(result.GetValue(address)!),
                ClientAuthorityPath = result.GetValue(clientCa)?.FullName,
                Transport = result.GetValue(transport),
            };
            if (result.GetValue(dev))
            {
                config.Certificate = DevCertificates.LoadOrCreate(Console.Out);
                Console.WriteLine($"Clients trust this coordinator with --ca {DevCertificates.AuthorityPath}");
            }
            else
            {
                config.CertificatePath = result.GetValue(cert)?.FullName
                    ?? throw new ConecException(ConecError.InvalidConfiguration, "Give --cert and --key, or --dev for a development certificate.");
                config.KeyPath = result.GetValue(key)?.FullName;
            }

            using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var shutdown = new ShutdownSignal(ct);
            config.LoggerFactory = logging;
            await using var coord = await Coord.StartAsync(config, shutdown.Token);
            Console.WriteLine($"Coordinator listening on {coord.LocalEndPoint}. Ctrl+C stops it.");
            await Task.WhenAny(coord.Completion, Task.Delay(Timeout.Infinite, shutdown.Token)).ContinueWith(static _ => { }, TaskScheduler.Default);
            Console.WriteLine("Stopping: closing every client's connection.");
            return 0;
        }));
        return command;
    }

    private static Command CertsCommand()
    {
        var outDirectory = new Option<DirectoryInfo>("--out") { Description = "Where to write the files.", DefaultValueFactory = _ => new DirectoryInfo("certs") };
        var caName = new Option<string>("--name") { Description = "The CA's name.", DefaultValueFactory = _ => "ca" };
        var ca = new Command("ca", "Create a CA: <out>/<name>.pem and <out>/<name>.key.") { outDirectory, caName };
        ca.SetAction(result => GuardedSync(result, () =>
        {
            var directory = result.GetValue(outDirectory)!;
            directory.Create();
            using var authority = ConecCertificates.CreateAuthority(result.GetValue(caName)!);
            var path = Path.Combine(directory.FullName, result.GetValue(caName) + ".pem");
            ConecCertificates.Save(authority, path, Path.ChangeExtension(path, ".key"));
            Console.WriteLine($"Wrote {path} and its key.");
        }));

        var name = new Argument<string>("name") { Description = "The DNS name (a client id, or the coordinator's host name)." };
        var caCert = new Option<FileInfo>("--ca") { Description = "The CA certificate (PEM); its key is the same path with .key.", Required = true };
        var issue = new Command("issue", "Issue a certificate for a name, signed by a CA: <out>/<name>.pem and .key.") { name, caCert, outDirectory };
        issue.SetAction(result => GuardedSync(result, () =>
        {
            var authorityPath = result.GetValue(caCert)!.FullName;
            using var authority = ConecCertificates.Load(authorityPath, Path.ChangeExtension(authorityPath, ".key"));
            var directory = result.GetValue(outDirectory)!;
            directory.Create();
            using var leaf = ConecCertificates.CreateSigned(result.GetValue(name)!, authority);
            var path = Path.Combine(directory.FullName, result.GetValue(name) + ".pem");
            ConecCertificates.Save(leaf, path, Path.ChangeExtension(path, ".key"));
            Console.WriteLine($"Wrote {path} and its key.");
        }));
        return new Command("certs", "Create certificates.") { ca, issue };
    }

    private static Command ChatCommand()
    {
        var id = new Option<string>("--id") { Description = "Your client id (a DNS name).", Required = true };
        var coord = new Option<string>("--coord") { Description = "The coordinator, HOST[:PORT].", Required = true };
        var ca = new Option<FileInfo?>("--ca") { Description = "A CA (or certificate) to trust for the coordinator." };
        var room = new Option<string>("--room") { Description = "The broadcast channel to join.", DefaultValueFactory = _ => "lobby" };
        var command = new Command("chat", "Chat in a room: type lines, see everybody's with their sender.") { id, coord, ca, room };
        command.SetAction((result, ct) => Guarded(result, async () =>
        {
            var (host, port) = HostAndPort(result.GetValue(coord)!);
            await using var client = await Client.ConnectAsync(new ClientConfig(result.GetValue(id)!, host)
            {
                CoordinatorPort = port,
                CoordinatorAuthorityPath = result.GetValue(ca)?.FullName,
            }, ct);
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
        }));
        return command;
    }

    private static Command BenchCommand()
    {
        var coord = new Option<string?>("--coord") { Description = "Measure through this coordinator, HOST[:PORT] (default: one in this process)." };
        var ca = new Option<FileInfo?>("--ca") { Description = "A CA (or certificate) to trust for --coord." };
        var quick = new Option<bool>("--quick") { Description = "Move less data: a quick look rather than stable figures." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON (progress still goes to standard error)." };
        var command = new Command("bench", "Measure proxied and direct streams, broadcast fan-out (read with sender ids) and RPC end to end.") { coord, ca, quick, json };
        command.SetAction((result, ct) => Guarded(result, async () =>
        {
            Bench.Target? target = null;
            if (result.GetValue(coord) is { } address)
            {
                var (host, port) = HostAndPort(address);
                target = new Bench.Target(host, port, result.GetValue(ca)?.FullName);
            }

            var results = await Bench.RunAsync(target, result.GetValue(quick), Console.Error, ct);
            if (result.GetValue(json))
            {
                await using var output = Console.OpenStandardOutput();
                Bench.PrintJson(results, output);
            }
            else
            {
                Bench.PrintTable(results, Console.Out);
            }

            return 0;
        }));
        return command;
    }

    private static (string Host, int Port) HostAndPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), out var port) ? (value[..colon], port) : (value, 1719);
    }

    private static Task<int> GuardedSync(ParseResult result, Action action) => Guarded(result, () =>
    {
        action();
        return Task.FromResult(0);
    });

    /// <summary>Turns every expected failure into one line with what to do, and exit code 1.</summary>
    private static async Task<int> Guarded(ParseResult result, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (ConecException e)
        {
            await Console.Error.WriteLineAsync($"conec: {e.Message} [{e.Error}]{Advice(e.Error)}");
            if (result.GetValue(Verbose))
            {
                await Console.Error.WriteLineAsync(e.ToString());
            }

            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or FormatException)
        {
            // The environment's failures (files, sockets, arguments) get the same one-line treatment as Conec's.
            await Console.Error.WriteLineAsync($"conec: {e.Message}");
            if (result.GetValue(Verbose))
            {
                await Console.Error.WriteLineAsync(e.ToString());
            }

            return 1;
        }
    }

    private static string Advice(ConecError error) => error switch
    {
        ConecError.ConnectionRefused or ConecError.Timeout => " Is the coordinator running, and are host and port right?",
        ConecError.HandshakeFailed => " Pass the coordinator's CA with --ca (for `coord --dev`, the path it printed).",
        ConecError.IdInUse => " Choose another --id.",
        ConecError.InvalidCertificate => " Check the file paths and that the key matches the certificate.",
        _ => "",
    };
}
