using Microsoft.CodeAnalysis;

namespace Conec.Generators.Tests;

/// <summary>The diagnostics of the shapes issue 23 added: streamed arguments, call contexts, options and deadlines in contracts.</summary>
public sealed class StreamingDiagnosticTests
{
    [Fact]
    public void CONEC0011_ASecondStreamedParameter() => DiagnosticTests.AssertDiagnostic("CONEC0011", "more", """
        [ConecStream]
        public interface IC
        {
            ValueTask<int> Sum(IAsyncEnumerable<int> items, IAsyncEnumerable<int> more, CancellationToken cancellationToken);
        }
        """);

    [Fact]
    public void OneStreamedParameterIsAValidCallWhateverItsPlace()
    {
        var (output, diagnostics, run) = GeneratorHarness.Run(DiagnosticTests.Usings + """
            [ConecStream]
            public interface IC
            {
                ValueTask Upload(string name, IAsyncEnumerable<byte[]> chunks, int tag);
            }
            """);
        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("Upload(string name, global::System.Collections.Generic.IAsyncEnumerable<byte[]> chunks, int tag)", Assert.Single(run.GeneratedTrees).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void CONEC0012_AStreamedParameterOfItemsThatCannotBeSentPointsAtTheParameter() => DiagnosticTests.AssertDiagnostic("CONEC0012", "jobs", """
        [ConecStream]
        public interface IC
        {
            ValueTask Run(IAsyncEnumerable<Task<int>> jobs);
        }
        """);

    [Fact]
    public void CONEC0006_AStreamedParameterOfAnUnmarkedTypePointsAtTheParameter() => DiagnosticTests.AssertDiagnostic("CONEC0006", "points", """
        public sealed class Point { public int X { get; set; } }

        [ConecStream]
        public interface IC
        {
            IAsyncEnumerable<int> Track(IAsyncEnumerable<Point> points, CancellationToken cancellationToken);
        }
        """);

    [Fact]
    public void CONEC0012_ACallContextParameterSaysWhereTheContextIs()
    {
        var diagnostic = DiagnosticTests.AssertDiagnostic("CONEC0012", "context", """
            [ConecStream]
            public interface IC
            {
                ValueTask<int> Whoami(RpcCallContext context);
            }
            """);
        Assert.Contains("RpcCallContext.Current", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CONEC0012_OptionsOrAFilterAsAParameter() => DiagnosticTests.AssertDiagnostic("CONEC0012", "deadline", """
        [ConecStream]
        public interface IC
        {
            ValueTask<int> Slow(RpcClientOptions deadline);
        }
        """);

    [Fact]
    public void CONEC0018_WithDeadlineIsTheClientsOwn() => DiagnosticTests.AssertDiagnostic("CONEC0018", "WithDeadline", """
        [ConecStream]
        public interface IC
        {
            ValueTask<int> WithDeadline(DateTimeOffset at);
        }
        """);

    [Fact]
    public void CONEC0018_AnItemEncoderClash() => DiagnosticTests.AssertDiagnostic("CONEC0018", "UploadItem", """
        [ConecStream]
        public interface IC
        {
            ValueTask Upload(IAsyncEnumerable<int> items);
            [ConecMethod(Call = true)] ValueTask UploadItem(int item);
        }
        """);
}
