using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Conec.Benchmarks;

/// <summary>
/// A private <c>redis-server</c> (Debian's package) on a unix socket in a temp folder, nothing persisted, stopped
/// by its own process id; it answers <c>INFO commandstats</c> for the Redis load rows.
/// </summary>
internal sealed class BenchRedis : IAsyncDisposable
{
    private static readonly string[] Locations = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

    private readonly string _directory;
    private readonly Process _process;

    private BenchRedis(string directory, Process process)
    {
        _directory = directory;
        _process = process;
    }

    /// <summary>The StackExchange.Redis configuration Conec's <c>ClusterConfig.Redis</c> takes: the socket's path.</summary>
    public string Configuration => SocketPath(_directory);

    public static async Task<BenchRedis> StartAsync()
    {
        var program = Locations.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("The cluster rows need redis-server (Debian: apt-get install redis-server).");
        var directory = Directory.CreateTempSubdirectory("conec-bench-redis-").FullName;
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--port", "0", "--unixsocket", SocketPath(directory), "--dir", directory, "--save", "", "--appendonly", "no", "--loglevel", "warning" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var redis = new BenchRedis(directory, process);
        try
        {
            // Ready when it answers: a PING through the socket, retried while the socket is not there yet.
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    await redis.CommandAsync("PING");
                    return redis;
                }
                catch (SocketException) when (clock.Elapsed < Deadline.Setup && !process.HasExited)
                {
                    await Task.Delay(20);
                }
            }
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Commands Redis has executed so far, all kinds together (<c>INFO commandstats</c>), less the INFO calls themselves.</summary>
    public async Task<long> CommandsExecutedAsync()
    {
        var total = 0L;
        foreach (var line in (await CommandAsync("INFO commandstats")).Split('\n'))
        {
            // cmdstat_get:calls=12,usec=...
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && !line.StartsWith("cmdstat_info:", StringComparison.Ordinal)
                && line.IndexOf("calls=", StringComparison.Ordinal) is var at and >= 0)
            {
                var end = line.IndexOf(',', at);
                total += long.Parse(line.AsSpan(at + 6, end - at - 6), CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WithinAsync(Deadline.Stop, "redis-server's exit");
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static string SocketPath(string directory) => Path.Combine(directory, "redis.sock");

    /// <summary>One inline command and its whole reply (bulk string or status), read until the reply is complete.</summary>
    private async Task<string> CommandAsync(string command)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath(_directory)));
        await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        var reply = new StringBuilder();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None).WithinAsync(Deadline.Stop, $"Redis's reply to {command}");
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var text = reply.ToString();
            if (text.StartsWith('+') && text.EndsWith("\r\n", StringComparison.Ordinal))
            {
                break;
            }

            if (text.StartsWith('$') && text.IndexOf("\r\n", StringComparison.Ordinal) is var header and > 0
                && int.Parse(text.AsSpan(1, header - 1), CultureInfo.InvariantCulture) is var length
                && text.Length >= header + 2 + length + 2)
            {
                return text.Substring(header + 2, length);
            }
        }

        return reply.ToString();
    }
}
