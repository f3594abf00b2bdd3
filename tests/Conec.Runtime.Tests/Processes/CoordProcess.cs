using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Conec.Tests.Processes;

/// <summary>
/// A `conec coord` process serving the tests' server certificate, in this network namespace or another one (a
/// <paramref name="launcher"/> such as <c>ip netns exec</c>). Disposing it kills the process.
/// </summary>
internal sealed partial class CoordProcess : IAsyncDisposable
{
    private CoordProcess(ProcessRunner runner, IPEndPoint endPoint)
    {
        Runner = runner;
        EndPoint = endPoint;
    }

    public ProcessRunner Runner { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>Starts the coordinator on <paramref name="address"/> and <paramref name="port"/> (0: any), and waits until it listens.</summary>
    /// <param name="directory">Where the certificate and key files go (the same files serve a restart).</param>
    /// <param name="launcher">Wraps the <c>dotnet conec.dll …</c> command line; null runs it as it is.</param>
    /// <param name="options">More `conec coord` options, such as <c>--max-clients</c>.</param>
    public static async Task<CoordProcess> StartAsync(string directory, TransportMode mode, IPAddress address, int port,
        CancellationToken cancellationToken, Func<string[], ProcessRunner>? launcher = null, params string[] options)
    {
        var certificate = Path.Combine(directory, "localhost.pem");
        var key = Path.Combine(directory, "localhost.key");
        if (!File.Exists(certificate))
        {
            ConecCertificates.Save(TestCertificates.Server, certificate, key);
        }

        string[] command = [ProcessRunner.Program("src/Conec.Cli", "conec"), "coord", "--address", address.ToString(),
            "--port", port.ToString(CultureInfo.InvariantCulture), "--cert", certificate, "--key", key, "--transport", mode.ToString(), .. options];
        var runner = launcher is null ? ProcessRunner.Start(command[0], command[1..]) : launcher(["dotnet", .. command]);
        try
        {
            await runner.WaitForOutputAsync("Ctrl+C stops it.", cancellationToken);
            var listening = int.Parse(ListeningPort().Match(runner.Output).Groups[1].Value, CultureInfo.InvariantCulture);
            return new CoordProcess(runner, new IPEndPoint(address, listening));
        }
        catch
        {
            await runner.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: no CLOSE frame, no goodbye, as a crash or power cut would.</summary>
    public void Kill() => Runner.Kill();

    public ValueTask DisposeAsync() => Runner.DisposeAsync();

    [GeneratedRegex(@"listening on [^\s]+:(\d+)\.")]
    private static partial Regex ListeningPort();
}
