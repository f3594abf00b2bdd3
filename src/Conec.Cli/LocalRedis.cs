using System.Diagnostics;

namespace Conec.Cli;

/// <summary>
/// A private redis-server for `conec demo --cluster`: a unix socket in a temp folder, nothing persisted, stopped
/// by the process id it started.
/// </summary>
internal sealed class LocalRedis : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Process _process;

    private LocalRedis(string directory, Process process)
    {
        _directory = directory;
        _process = process;
    }

    /// <summary>The StackExchange.Redis configuration of this server (its socket's path).</summary>
    public string Configuration => Path.Combine(_directory, "redis.sock");

    /// <summary>redis-server on PATH, or null.</summary>
    public static string? Locate() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <exception cref="ConecException"><see cref="ConecError.ClusterUnavailable"/> when the server does not open its socket within 10 s.</exception>
    public static async Task<LocalRedis> StartAsync(string program, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("conec-demo-redis-").FullName;
        var socket = Path.Combine(directory, "redis.sock");
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--dir", directory, "--save", "", "--appendonly", "no", "--loglevel", "warning" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new ConecException(ConecError.ClusterUnavailable, $"{program} did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new LocalRedis(directory, process);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            // redis-server says nothing when ready; its socket appearing is the sign.
            while (!File.Exists(socket))
            {
                if (process.HasExited)
                {
                    throw new ConecException(ConecError.ClusterUnavailable, $"redis-server exited with code {process.ExitCode}.");
                }

                await Task.Delay(10, deadline.Token);
            }

            return redis;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await redis.DisposeAsync();
            throw new ConecException(ConecError.ClusterUnavailable, "redis-server did not open its socket within 10 s.");
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The socket file may still be held for a moment; the temp folder is the OS's to clean then.
        }
    }
}
