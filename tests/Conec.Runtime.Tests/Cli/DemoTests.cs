using Conec.Cli;

namespace Conec.Tests.Cli;

/// <summary>`conec demo`, the README's first command, runs to its summary.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task TheDemoShowsEveryFeatureAndSummarises()
    {
        var output = new StringWriter();
        var summary = await Demo.RunAsync(output, Timeouts.Token(TimeSpan.FromSeconds(60)));

        var text = output.ToString();
        Assert.Contains("answered \"HELLO BOB\"", text, StringComparison.Ordinal);
        Assert.Contains("[lobby] carol: hi, I am carol", text, StringComparison.Ordinal);
        Assert.Contains("Summary:", text, StringComparison.Ordinal);
        Assert.True(summary.Messages > 2000, $"Only {summary.Messages} messages.");
        Assert.True(summary.DirectMegabytesPerSecond > 0 && summary.RpcP50Microseconds > 0);
    }

    [Fact]
    public void AnInstalledToolPointsAtTheDocsNotAtSourcesItDoesNotHave()
    {
        var elsewhere = Directory.CreateTempSubdirectory("conec-demo-").FullName;
        try
        {
            var line = Demo.WhereToLook(elsewhere);
            Assert.Contains("docs/getting-started.md in the Conec repository", line, StringComparison.Ordinal);
            Assert.DoesNotContain("src/", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(elsewhere);
        }

        // In a checkout (dotnet run from the repository's root) the code is there to read.
        Assert.Contains("src/Conec.Cli/Demo.cs", Demo.WhereToLook(Processes.ProcessRunner.Root), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableCoordinatorIsOneLineAndExitCodeOne()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var code = await Commands.Build().Parse(["chat", "--id", "me", "--coord", $"127.0.0.1:{port}"])
                .InvokeAsync(cancellationToken: Timeouts.Token());
            Assert.Equal(1, code);
        }
        finally
        {
            Console.SetError(original);
        }

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("conec: ", line, StringComparison.Ordinal);
        Assert.Contains("Is the coordinator running", line, StringComparison.Ordinal);
    }
}
