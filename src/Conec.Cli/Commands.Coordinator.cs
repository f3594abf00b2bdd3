using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Conec.Cli;

/// <summary>`conec demo` and `conec coord`: the commands that run a coordinator.</summary>
internal static partial class Commands
{
    private static Command DemoCommand()
    {
        var cluster = new Option<bool>("--cluster") { Description = "Run three nodes of a cluster on a private Redis instead (needs redis-server on PATH)." };
        var command = new Command("demo", "Run a coordinator and three clients on loopback and show what Conec does (under a minute).") { cluster };
        command.SetAction((result, ct) => Guarded(result, OptionSources.None, async () =>
        {
            QuicFallbackNotice.WriteOnce(TransportMode.Auto, Console.Error);
            if (result.GetValue(cluster))
            {
                return await ClusterDemo.RunAsync(Console.Out, ct) is null ? 1 : 0;
            }

            await Demo.RunAsync(Console.Out, ct);
            return 0;
        }));
        return command;
    }

    private static Command CoordCommand()
    {
        var port = new Option<int>("--port") { Description = "The port to listen on.", DefaultValueFactory = _ => 1719, CustomParser = OptionParsers.Number("--port") };
        var address = new Option<IPAddress>("--address")
        {
            Description = "The IP address to listen on.",
            DefaultValueFactory = _ => IPAddress.Any,
            CustomParser = OptionParsers.Address("--address"),
        };
        var cert = new Option<FileInfo?>("--cert") { Description = "The coordinator's certificate (PEM)." };
        var key = new Option<FileInfo?>("--key") { Description = "The certificate's private key (PEM)." };
        var dev = new Option<bool>("--dev") { Description = "Use a development CA and localhost certificate, made once under your profile." };
        var clientCa = new Option<FileInfo?>("--client-ca") { Description = "Admit only clients whose certificate this CA signed." };
        var transport = new Option<TransportMode>("--transport")
        {
            Description = "Auto (QUIC where the machine has it, else TCP), Quic or Tcp.",
            DefaultValueFactory = _ => TransportMode.Auto,
            CustomParser = OptionParsers.Choice<TransportMode>("--transport"),
        };
        var maxClients = new Option<int?>("--max-clients")
        {
            Description = "Clients admitted at once; more are refused as 'coordinator full'. Default: derived from the descriptor limit (ulimit -n).",
            CustomParser = result => OptionParsers.Number("--max-clients")(result),
        };
        var maxHandshakes = new Option<int?>("--max-pending-handshakes")
        {
            Description = "Connections in their TLS handshake at once; more are closed at once. Default: derived like --max-clients.",
            CustomParser = result => OptionParsers.Number("--max-pending-handshakes")(result),
        };
        var monitor = new Option<HostAndPort?>("--monitor")
        {
            Description = "Serve HTTP monitoring at ADDRESS:PORT: /healthz, /metrics (Prometheus), /varz, /nodez, /connz, /subsz (JSON).",
            CustomParser = OptionParsers.Endpoint("--monitor"),
        };
        var command = new Command("coord", "Run a coordinator until Ctrl+C.") { port, address, cert, key, dev, clientCa, transport, maxClients, maxHandshakes, monitor };
        var cluster = ClusterOptions.Create();
        cluster.AddTo(command);
        var sources = OptionSources.Of<CoordConfig>(
            (nameof(CoordConfig.Port), "--port"),
            (nameof(CoordConfig.Address), "--address"),
            (nameof(CoordConfig.CertificatePath), "--cert"),
            (nameof(CoordConfig.KeyPath), "--key"),
            (nameof(CoordConfig.ClientAuthorityPath), "--client-ca"),
            (nameof(CoordConfig.Transport), "--transport"),
            (nameof(CoordConfig.MaxClients), "--max-clients"),
            (nameof(CoordConfig.MaxPendingHandshakes), "--max-pending-handshakes"),
            ("Cluster.Redis", "--cluster"), ("Cluster.NodeId", "--node-id"), ("Cluster.LinkPort", "--link-port"), ("Cluster.AdvertisedHost", "--advertise"),
            ("Cluster.CertificatePath", "--node-cert"), ("Cluster.Certificate", "--node-cert"), ("Cluster.AuthorityPath", "--node-ca"),
            ("Cluster.Authority", "--node-ca"), ("Cluster.LeaseTime", "--lease"));
        command.SetAction((result, ct) => Guarded(result, sources, async () =>
        {
            var config = new CoordConfig
            {
                Port = result.GetValue(port),
                Address = result.GetValue(address)!,
                ClientAuthorityPath = result.GetValue(clientCa)?.FullName,
                Transport = result.GetValue(transport),
                MaxClients = result.GetValue(maxClients),
                MaxPendingHandshakes = result.GetValue(maxHandshakes),
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

            config.Cluster = cluster.Read(result);
            using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            using var shutdown = new ShutdownSignal(ct);
            config.LoggerFactory = logging;
            await using var coord = await Coord.StartAsync(config, shutdown.Token);
            await using var monitoring = result.GetValue(monitor) is { } at ? Monitoring.MonitorServer.Start(coord, at) : null;
            if (monitoring is not null)
            {
                Console.WriteLine($"Monitoring at {monitoring.Prefix} (healthz, metrics, varz, nodez, connz, subsz).");
            }

            QuicFallbackNotice.WriteOnce(config.Transport, Console.Error);
            Console.WriteLine($"At most {coord.MaxClients} clients and {coord.MaxPendingHandshakes} handshakes at once"
                + (config.MaxClients is null ? " (from the descriptor limit; --max-clients sets it)." : "."));
            Console.WriteLine($"Coordinator listening on {coord.LocalEndPoint}. Ctrl+C stops it.");
            await Task.WhenAny(coord.Completion, Task.Delay(Timeout.Infinite, shutdown.Token)).ContinueWith(static _ => { }, TaskScheduler.Default);
            Console.WriteLine("Stopping: closing every client's connection.");
            return 0;
        }));
        return command;
    }
}
