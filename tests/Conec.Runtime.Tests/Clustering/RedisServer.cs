using System.Diagnostics;

namespace Conec.Tests.Clustering;

/// <summary>
/// A private <c>redis-server</c> (Debian package redis-server) on a unix socket in a temp folder, with nothing
/// persisted, stopped by its own process id. Where it is missing the test skips with the reason, unless
/// <c>CONEC_REQUIRE_REDIS=1</c> (CI sets it) turns the skip into a failure.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private RedisServer(string directory) => _directory = directory;

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => SocketPath;

    private string SocketPath => Path.Combine(_directory, "redis.sock");

    /// <summary>Starts a server, or skips (fails under CI) the calling test where redis-server is not installed.</summary>
    public static async Task<RedisServer> StartAsync()
    {
        var program = Locate();
        if (program is null)
        {
            const string reason = "redis-server is not installed (Debian package redis-server); the cluster tests need it";
            Assert.True(Environment.GetEnvironmentVariable("CONEC_REQUIRE_REDIS") != "1", $"{reason}, and CONEC_REQUIRE_REDIS=1 requires them to run.");
            Assert.Skip(reason + ".");
        }

        var server = new RedisServer(Directory.CreateTempSubdirectory("conec-redis-").FullName);
        try
        {
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server again on the same socket (empty: nothing is saved), after <see cref="Stop"/>.</summary>
    public async Task RestartAsync()
    {
        File.Delete(SocketPath);
        var start = new ProcessStartInfo(Locate()!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--port", "0", "--unixsocket", SocketPath, "--unixsocketperm", "700", "--dir", _directory,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (!File.Exists(SocketPath))
        {
            Assert.False(_process.HasExited, $"redis-server exited with code {(_process.HasExited ? _process.ExitCode : 0)}.");
            Assert.True(waited.Elapsed < Timeouts.Operation, "redis-server did not open its socket in time.");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>SIGKILL, by the process id this helper started: Redis vanishes with everything it held.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A socket file still being released: the temp folder is left for the OS to clean.
        }

        return ValueTask.CompletedTask;
    }

    private static string? Locate() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, "redis-server"))
            .FirstOrDefault(File.Exists);
}
