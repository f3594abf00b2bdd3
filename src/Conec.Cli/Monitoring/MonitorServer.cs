using System.Net;
using System.Text;
using System.Text.Json;

namespace Conec.Cli.Monitoring;

/// <summary>
/// `conec coord --monitor ADDRESS:PORT`: plain HTTP views of what the coordinator holds, modelled on nats-server's
/// monitoring: <c>/healthz</c>, <c>/metrics</c> (Prometheus text), and JSON at <c>/varz</c> (this node),
/// <c>/nodez</c> (the cluster's live nodes), <c>/connz</c> (this node's clients) and <c>/subsz</c> (broadcasts with
/// their members per node). HttpListener, not Kestrel: the CLI stays a console app without the ASP.NET Core
/// shared framework, and trimming keeps working (docs/architecture.md, "Monitoring").
/// </summary>
internal sealed class MonitorServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Coord _coord;
    private readonly PrometheusText _metrics = new();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly Task _serving;

    private MonitorServer(Coord coord, HostAndPort at)
    {
        _coord = coord;
        Prefix = $"http://{(at.Host.Contains(':', StringComparison.Ordinal) ? $"[{at.Host}]" : at.Host)}:{at.Port}/";
        _listener.Prefixes.Add(Prefix);
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            _metrics.Dispose();
            throw new ConecException(ConecError.InvalidConfiguration, $"--monitor {at.Host}:{at.Port} cannot listen: {e.Message}", e);
        }

        _serving = Task.Run(ServeAsync);
    }

    /// <summary>Where the monitor answers, e.g. <c>http://127.0.0.1:8222/</c>.</summary>
    public string Prefix { get; }

    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/> when the address cannot be listened on.</exception>
    public static MonitorServer Start(Coord coord, HostAndPort at) => new(coord, at);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
        _listener.Close();
        _metrics.Dispose();
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // Stopped: the loop's normal end.
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var (status, type, body) = await RouteAsync(context.Request.Url?.AbsolutePath ?? "/");
            var bytes = Encoding.UTF8.GetBytes(body);
            response.StatusCode = status;
            response.ContentType = type;
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The scraper went away mid-answer; the next scrape is answered anew.
        }
        finally
        {
            response.Close();
        }
    }

    private async Task<(int Status, string Type, string Body)> RouteAsync(string path)
    {
        const string Json = "application/json; charset=utf-8";
        try
        {
            return path switch
            {
                "/healthz" => (200, "text/plain; charset=utf-8", _coord.Completion.IsCompleted ? "stopped\n" : "ok\n"),
                "/metrics" => (200, "text/plain; version=0.0.4; charset=utf-8", _metrics.Scrape()),
                "/varz" => (200, Json, Write(Varz)),
                "/nodez" => (200, Json, Write(await NodezAsync())),
                "/connz" => (200, Json, Write(Connz)),
                "/subsz" => (200, Json, Write(await SubszAsync())),
                _ => (404, "text/plain; charset=utf-8", "Try /healthz, /metrics, /varz, /nodez, /connz or /subsz.\n"),
            };
        }
        catch (ConecException e) when (e.Error == ConecError.ClusterUnavailable)
        {
            return (503, "text/plain; charset=utf-8", e.Message + "\n");
        }
    }

    /// <summary>Writes a JSON view with <see cref="Utf8JsonWriter"/> directly: no reflection, so trimming is safe.</summary>
    private static string Write(Action<Utf8JsonWriter> view)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            view(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private void Varz(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("node", _coord.Cluster?.NodeId ?? "");
        w.WriteString("cluster", _coord.Config.Cluster?.Name ?? "");
        w.WriteString("address", _coord.LocalEndPoint.ToString());
        w.WriteString("transport", _coord.Config.Transport.ToString());
        w.WriteString("started", _started);
        w.WriteNumber("uptime_seconds", Math.Round((DateTimeOffset.UtcNow - _started).TotalSeconds, 1));
        w.WriteNumber("clients", _coord.ClientCount);
        w.WriteNumber("max_clients", _coord.MaxClients);
        w.WriteNumber("max_pending_handshakes", _coord.MaxPendingHandshakes);
        w.WriteNumber("broadcasts", _coord.BroadcastCount);
        w.WriteEndObject();
    }

    private async Task<Action<Utf8JsonWriter>> NodezAsync()
    {
        var nodes = _coord.Cluster is { } cluster ? await cluster.NodesAsync(CancellationToken.None) : [];
        var self = _coord.Cluster?.NodeId;
        return w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("nodes");
            foreach (var node in nodes)
            {
                w.WriteStartObject();
                w.WriteString("id", node.NodeId);
                w.WriteString("link", $"{node.LinkHost}:{node.LinkPort}");
                w.WriteBoolean("self", string.Equals(node.NodeId, self, StringComparison.OrdinalIgnoreCase));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        };
    }

    private void Connz(Utf8JsonWriter w)
    {
        var clients = _coord.ClientsSnapshot();
        w.WriteStartObject();
        w.WriteString("node", _coord.Cluster?.NodeId ?? "");
        w.WriteNumber("count", clients.Count);
        w.WriteStartArray("clients");
        foreach (var (id, remote) in clients)
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("address", remote.ToString());
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private async Task<Action<Utf8JsonWriter>> SubszAsync()
    {
        var broadcasts = await _coord.GetBroadcastsAsync(CancellationToken.None);
        return w =>
        {
            w.WriteStartObject();
            w.WriteNumber("count", broadcasts.Count);
            w.WriteStartArray("broadcasts");
            foreach (var broadcast in broadcasts)
            {
                w.WriteStartObject();
                w.WriteString("name", broadcast.Name);
                w.WriteNumber("senders", broadcast.Count.Senders);
                w.WriteNumber("receivers", broadcast.Count.Receivers);
                w.WriteStartObject("members");
                foreach (var (node, members) in broadcast.MembersByNode.OrderBy(m => m.Key, StringComparer.Ordinal))
                {
                    w.WriteNumber(node, members);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        };
    }
}
