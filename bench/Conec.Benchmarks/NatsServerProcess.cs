using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>
/// A <c>nats-server</c> (Debian's package) on loopback with TLS on the benchmark's certificate, on a port it picks
/// itself (<c>-p -1</c>) and names in its log; stopped by killing its process.
/// </summary>
internal sealed class NatsServerProcess : IAsyncDisposable
{
    private const string Listening = "Listening for client connections on ";
    private const string VersionLine = "Version:";

    private readonly Process _process;
    private readonly Task _draining;

    private NatsServerProcess(Process process, Task draining, int port, string version)
    {
        _process = process;
        _draining = draining;
        Port = port;
        Version = version;
    }

    public int Port { get; }

    /// <summary>The server's version, as its log says it.</summary>
    public string Version { get; }

    public static async Task<NatsServerProcess> StartAsync(string certificatePath, string keyPath)
    {
        var start = new ProcessStartInfo("nats-server") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in (string[])["-a", "127.0.0.1", "-p", "-1", "--tls", "--tlscert", certificatePath, "--tlskey", keyPath])
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Could not start nats-server.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("`bench latency` needs nats-server on PATH (Debian: apt-get install -y nats-server).", e);
        }

        var log = new List<string>();
        try
        {
            var (port, version) = await ReadUntilReadyAsync(process.StandardError, log).WithinAsync(Deadline.Setup, "nats-server's start");
            // It logs to standard error (standard output stays empty); both are read to the end so that it never blocks on a full pipe.
            var draining = Task.WhenAll(process.StandardError.ReadToEndAsync(), process.StandardOutput.ReadToEndAsync());
            return new NatsServerProcess(process, draining, port, version);
        }
        catch (Exception e)
        {
            process.Kill();
            process.Dispose();
            lock (log)
            {
                // The reader may still be adding lines when the start timed out.
                throw new InvalidOperationException($"nats-server did not start: {string.Join(Environment.NewLine, log)}", e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync().WithinAsync(Deadline.Stop, "nats-server's exit");
            await _draining.WithinAsync(Deadline.Stop, "nats-server's last output");
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>Reads the log until the server is ready; returns the port it listens on and its version.</summary>
    private static async Task<(int Port, string Version)> ReadUntilReadyAsync(StreamReader output, List<string> log)
    {
        int? port = null;
        var version = "?";
        while (await output.ReadLineAsync() is { } line)
        {
            lock (log)
            {
                log.Add(line);
            }

            if (line.IndexOf(Listening, StringComparison.Ordinal) is var at and >= 0)
            {
                var address = line[(at + Listening.Length)..].Trim();
                port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            }
            else if (line.IndexOf(VersionLine, StringComparison.Ordinal) is var v and >= 0)
            {
                version = line[(v + VersionLine.Length)..].Trim();
            }
            else if (line.EndsWith("Server is ready", StringComparison.Ordinal))
            {
                return port is { } listening ? (listening, version) : throw new InvalidOperationException("nats-server is ready but never said its port.");
            }
        }

        throw new InvalidOperationException("nats-server exited at start.");
    }
}
