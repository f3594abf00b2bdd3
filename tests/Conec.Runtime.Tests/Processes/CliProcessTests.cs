using System.Text.RegularExpressions;
using Conec.Transport;

namespace Conec.Tests.Processes;

/// <summary>The `conec` tool run as a separate process: output and exit codes as a user sees them.</summary>
public sealed partial class CliProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("conec-cli-").FullName;

    private static string Conec => ProcessRunner.Program("src/Conec.Cli", "conec");

    [Fact]
    public async Task DemoSucceeds()
    {
        await using var demo = ProcessRunner.Start(Conec, "demo");
        Assert.Equal(0, await demo.ExitCodeAsync(Timeouts.Token(TimeSpan.FromSeconds(90))));
        Assert.Contains("Summary:", demo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchPrintsItsResultsAsJson()
    {
        await using var bench = ProcessRunner.Start(Conec, "bench", "--quick", "--json");
        Assert.Equal(0, await bench.ExitCodeAsync(Timeouts.Token(TimeSpan.FromSeconds(120))));
        using var results = System.Text.Json.JsonDocument.Parse(bench.Output);
        var names = results.RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToArray();
        Assert.Equal(["proxied bulk", "direct bulk", "broadcast 1 KiB to 10, with sender ids", "RPC, 1 call in flight", "RPC, 64 calls in flight"], names);
        Assert.All(results.RootElement.EnumerateArray(), r => Assert.True(r.GetProperty("value").GetDouble() > 0));
        Assert.Contains("measuring RPC", bench.Error, StringComparison.Ordinal);

        // A coordinator and twelve clients in one process: said once, not per connection.
        AssertQuicFallbackNotedOnce(bench.Error);
    }

    [Fact]
    public async Task CertificatesFromCertsServeACoordinatorAndTwoChatsTalk()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        await RunToEndAsync(0, ct, "certs", "ca", "--out", _directory);
        await RunToEndAsync(0, ct, "certs", "issue", "localhost", "--ca", Path.Combine(_directory, "ca.pem"), "--out", _directory);

        await using var coord = ProcessRunner.Start(Conec, "coord", "--address", "127.0.0.1", "--port", "0",
            "--cert", Path.Combine(_directory, "localhost.pem"), "--key", Path.Combine(_directory, "localhost.key"));
        await coord.WaitForOutputAsync("Ctrl+C stops it.", ct);
        var port = ListeningPort().Match(coord.Output).Groups[1].Value;
        var ca = Path.Combine(_directory, "ca.pem");

        await using var alice = ProcessRunner.Start(Conec, "chat", "--id", "alice", "--coord", $"localhost:{port}", "--ca", ca);
        await using var bob = ProcessRunner.Start(Conec, "chat", "--id", "bob", "--coord", $"localhost:{port}", "--ca", ca);
        await alice.WaitForOutputAsync("Joined lobby as alice", ct);
        await bob.WaitForOutputAsync("Joined lobby as bob", ct);
        await alice.WriteLineAsync("hello from alice");
        await bob.WaitForOutputAsync("[lobby] alice: hello from alice", ct);
        await bob.WriteLineAsync("hi alice");
        await alice.WaitForOutputAsync("[lobby] bob: hi alice", ct);
        AssertQuicFallbackNotedOnce(coord.Error);
        AssertQuicFallbackNotedOnce(alice.Error);

        // The same id again is refused with one line and exit code 1.
        await using (var twin = ProcessRunner.Start(Conec, "chat", "--id", "bob", "--coord", $"localhost:{port}", "--ca", ca))
        {
            Assert.Equal(1, await twin.ExitCodeAsync(ct));
            AssertOneLine(twin.Error, "Choose another --id.");
        }

        await alice.WriteLineAsync("");
        await bob.WriteLineAsync("");
        Assert.Equal(0, await alice.ExitCodeAsync(ct));
        Assert.Equal(0, await bob.ExitCodeAsync(ct));

        // Stopping the coordinator closes it cleanly and exits with 0.
        coord.Terminate();
        Assert.Equal(0, await coord.ExitCodeAsync(ct));
        Assert.Contains("Coordinator stopped", coord.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACoordinatorWithAClientCaAdmitsChatsWithIssuedCertificates()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        var (coord, port) = await StartClientCaCoordinatorAsync(ct);
        await using var _ = coord;
        var ca = Path.Combine(_directory, "ca.pem");
        await RunToEndAsync(0, ct, "certs", "issue", "alice", "--ca", ca, "--out", _directory);
        await RunToEndAsync(0, ct, "certs", "issue", "bob", "--ca", ca, "--out", _directory);

        await using var alice = ProcessRunner.Start(Conec, "chat", "--id", "alice", "--coord", $"localhost:{port}", "--ca", ca,
            "--cert", Path.Combine(_directory, "alice.pem"), "--key", Path.Combine(_directory, "alice.key"));
        await using var bob = ProcessRunner.Start(Conec, "chat", "--id", "bob", "--coord", $"localhost:{port}", "--ca", ca,
            "--cert", Path.Combine(_directory, "bob.pem"), "--key", Path.Combine(_directory, "bob.key"));
        await alice.WaitForOutputAsync("Joined lobby as alice", ct);
        await bob.WaitForOutputAsync("Joined lobby as bob", ct);
        await alice.WriteLineAsync("hello from alice");
        await bob.WaitForOutputAsync("[lobby] alice: hello from alice", ct);
        await alice.WriteLineAsync("");
        await bob.WriteLineAsync("");
        Assert.Equal(0, await alice.ExitCodeAsync(ct));
        Assert.Equal(0, await bob.ExitCodeAsync(ct));
    }

    [Fact]
    public async Task ASelfSignedChatRefusedByAClientCaCoordinatorIsToldToPassAnIssuedCertificate()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (coord, port) = await StartClientCaCoordinatorAsync(ct);
        await using var _ = coord;

        // --ca is right here: repeating "pass --ca" would send the user round in a circle.
        var error = await RunToEndAsync(1, ct, "chat", "--id", "carol", "--coord", $"localhost:{port}", "--ca", Path.Combine(_directory, "ca.pem"));
        AssertOneLine(error, "pass one with --cert and --key");
        Assert.DoesNotContain("Pass the coordinator's CA", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchThroughACoordinatorWithAClientCaIssuesItsClientsCertificates()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(120));
        var (coord, port) = await StartClientCaCoordinatorAsync(ct);
        await using var _ = coord;
        var ca = Path.Combine(_directory, "ca.pem");
        await using var bench = ProcessRunner.Start(Conec, "bench", "--quick", "--json", "--coord", $"localhost:{port}", "--ca", ca, "--client-ca", ca);
        var exit = await bench.ExitCodeAsync(ct);
        Assert.True(exit == 0, $"bench exited with {exit}. Errors: {bench.Error}");
        using var results = System.Text.Json.JsonDocument.Parse(bench.Output);
        Assert.Equal(5, results.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task AnUntrustedCoordinatorIsOneLineAndExitCodeOne()
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        await RunToEndAsync(0, ct, "certs", "ca", "--out", _directory);
        await RunToEndAsync(0, ct, "certs", "issue", "localhost", "--ca", Path.Combine(_directory, "ca.pem"), "--out", _directory);
        await using var coord = ProcessRunner.Start(Conec, "coord", "--address", "127.0.0.1", "--port", "0",
            "--cert", Path.Combine(_directory, "localhost.pem"), "--key", Path.Combine(_directory, "localhost.key"));
        await coord.WaitForOutputAsync("Ctrl+C stops it.", ct);
        var port = ListeningPort().Match(coord.Output).Groups[1].Value;

        // No --ca: the system roots do not vouch for the development CA.
        var error = await RunToEndAsync(1, ct, "chat", "--id", "carol", "--coord", $"localhost:{port}");
        AssertOneLine(error, "Pass the coordinator's CA with --ca");
    }

    [Fact]
    public async Task AMissingCertificateFileIsOneLineAndExitCodeOne()
    {
        var error = await RunToEndAsync(1, Timeouts.Token(), "coord", "--port", "0", "--cert", Path.Combine(_directory, "missing.pem"), "--key", Path.Combine(_directory, "missing.key"));
        AssertOneLine(error, "Check the file paths");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A CA in the test's directory, and a coordinator with a certificate it issued that admits only its clients.</summary>
    private async Task<(ProcessRunner Coord, string Port)> StartClientCaCoordinatorAsync(CancellationToken ct)
    {
        var ca = Path.Combine(_directory, "ca.pem");
        await RunToEndAsync(0, ct, "certs", "ca", "--out", _directory);
        await RunToEndAsync(0, ct, "certs", "issue", "localhost", "--ca", ca, "--out", _directory);
        var coord = ProcessRunner.Start(Conec, "coord", "--address", "127.0.0.1", "--port", "0", "--client-ca", ca,
            "--cert", Path.Combine(_directory, "localhost.pem"), "--key", Path.Combine(_directory, "localhost.key"));
        try
        {
            await coord.WaitForOutputAsync("Ctrl+C stops it.", ct);
            return (coord, ListeningPort().Match(coord.Output).Groups[1].Value);
        }
        catch
        {
            await coord.DisposeAsync();
            throw;
        }
    }

    private static async Task<string> RunToEndAsync(int expectedExit, CancellationToken ct, params string[] arguments)
    {
        await using var run = ProcessRunner.Start(Conec, arguments);
        var exit = await run.ExitCodeAsync(ct);
        Assert.True(exit == expectedExit, $"conec {string.Join(' ', arguments)} exited with {exit}. Output: {run.Output} Errors: {run.Error}");
        return run.Error;
    }

    private static void AssertOneLine(string error, string advice)
    {
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("conec: ", line, StringComparison.Ordinal);
        Assert.Contains(advice, line, StringComparison.Ordinal);
    }

    /// <summary>Without QUIC, --transport auto (the default) says once, on standard error, that it uses TCP and why.</summary>
    private static void AssertQuicFallbackNotedOnce(string error)
    {
        var notices = error.Split('\n').Where(line => line.Contains("QUIC is unavailable", StringComparison.Ordinal)).ToArray();
        if (TransportFactory.IsQuicSupported)
        {
            Assert.Empty(notices);
            return;
        }

        var notice = Assert.Single(notices);
        Assert.Contains("uses TCP", notice, StringComparison.Ordinal);
        Assert.Contains("QuicListener.IsSupported", notice, StringComparison.Ordinal);
        Assert.Contains("libmsquic", notice, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"listening on [^\s]+:(\d+)\.")]
    private static partial Regex ListeningPort();
}
