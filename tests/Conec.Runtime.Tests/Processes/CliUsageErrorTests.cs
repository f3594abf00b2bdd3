namespace Conec.Tests.Processes;

/// <summary>A command line `conec` cannot run: two lines on standard error (what was wrong, which help) and exit code 2.</summary>
public sealed class CliUsageErrorTests
{
    private static string Conec => ProcessRunner.Program("src/Conec.Cli", "conec");

    [Theory]
    [InlineData(new[] { "coord", "--port", "abc" }, "--port wants a number, not 'abc'.", "conec coord")]
    [InlineData(new[] { "coord", "--transport", "udp" }, "--transport wants auto, quic or tcp, not 'udp'.", "conec coord")]
    [InlineData(new[] { "coord", "--address", "localhost" }, "--address wants an IP address", "conec coord")]
    [InlineData(new[] { "frob" }, "'frob' is not a command of 'conec'", "conec")]
    [InlineData(new[] { "--bogus" }, "'conec' has no option '--bogus'.", "conec")]
    [InlineData(new[] { "certs", "--bogus" }, "'conec certs' has no option '--bogus'.", "conec certs")]
    [InlineData(new[] { "certs" }, "'conec certs' needs a command: ca or issue.", "conec certs")]
    [InlineData(new[] { "chat", "--id", "alice", "--coord", "localhost:abc" }, "--coord wants HOST[:PORT] or a comma-separated list of them, not 'localhost:abc'.", "conec chat")]
    [InlineData(new[] { "chat", "--id", "alice", "--coord", "node1:1719,node2:x" }, "--coord wants HOST[:PORT] or a comma-separated list of them, not 'node2:x'.", "conec chat")]
    [InlineData(new[] { "chat", "--id", "alice", "--coord", "node1:1719,node2:99999" }, "The port of --coord must be between 1 and 65535.", "conec chat")]
    public async Task AParseErrorIsTwoLinesAndExitCodeTwo(string[] arguments, string problem, string command)
    {
        await using var run = ProcessRunner.Start(Conec, arguments);
        AssertUsageError(await run.ExitCodeAsync(Timeouts.Token()), run, problem, command);
    }

    [Theory]
    [InlineData(new[] { "coord", "--port", "99999", "--cert", "/nonexistent/coord.pem", "--key", "/nonexistent/coord.key" }, "--port must be between 0 and 65535.", "conec coord")]
    [InlineData(new[] { "chat", "--id", "alice", "--coord", "localhost:99999" }, "The port of --coord must be between 1 and 65535.", "conec chat")]
    [InlineData(new[] { "chat", "--id", "not an id", "--coord", "localhost" }, "--id 'not an id' is not a DNS name", "conec chat")]
    public async Task AnOutOfRangeValueNamesItsOptionNotTheConfigurationProperty(string[] arguments, string problem, string command)
    {
        await using var run = ProcessRunner.Start(Conec, arguments);
        AssertUsageError(await run.ExitCodeAsync(Timeouts.Token()), run, problem, command);
        Assert.DoesNotContain("Config.", run.Error, StringComparison.Ordinal);
    }

    private static void AssertUsageError(int exit, ProcessRunner run, string problem, string command)
    {
        Assert.True(exit == 2, $"Exited with {exit}. Output: {run.Output} Errors: {run.Error}");
        Assert.Equal("", run.Output);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("conec: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(problem, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("System.", lines[0], StringComparison.Ordinal);
        Assert.Equal($"See '{command} --help'.", lines[1]);
    }
}
