namespace Conec.Tests.Processes;

/// <summary>Every sample runs as a user runs it and checks its own result (exit code 0 and its OK line).</summary>
public sealed class SampleTests
{
    [Theory]
    [InlineData("Chat", new string[0])]
    [InlineData("FileTransfer", new[] { "8388608" })]
    [InlineData("Rpc", new string[0])]
    [InlineData("Aot", new string[0])]
    public async Task TheSampleRunsAndChecksItsResult(string sample, string[] arguments)
    {
        await using var run = ProcessRunner.Start(ProcessRunner.Program($"samples/{sample}", sample), arguments);
        var exit = await run.ExitCodeAsync(Timeouts.Token(TimeSpan.FromSeconds(90)));
        Assert.True(exit == 0, $"{sample} exited with {exit}. Output: {run.Output} Errors: {run.Error}");
        Assert.Contains("OK:", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileTransferWritesNoProgressBarToARedirectedOutputOnlyItsSummary()
    {
        await using var run = ProcessRunner.Start(ProcessRunner.Program("samples/FileTransfer", "FileTransfer"), "8388608");
        Assert.Equal(0, await run.ExitCodeAsync(Timeouts.Token(TimeSpan.FromSeconds(90))));
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Collection(lines,
            summary => Assert.StartsWith("sent 8 MiB over a direct channel at ", summary, StringComparison.Ordinal),
            verdict => Assert.StartsWith("OK:", verdict, StringComparison.Ordinal));
    }
}
