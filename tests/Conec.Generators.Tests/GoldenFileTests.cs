using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Conec.Generators.Tests;

/// <summary>
/// The generated code for representative contracts, compared with checked-in files. Set CONEC_REGENERATE_GOLDEN=1 to
/// rewrite them after an intended change, and review the diff.
/// </summary>
public sealed class GoldenFileTests
{
    public static TheoryData<string> Scenarios => [.. Contracts.All.Keys];

    [Theory, MemberData(nameof(Scenarios))]
    public void GeneratedCodeMatchesTheGoldenFile(string scenario)
    {
        var (output, diagnostics, run) = GeneratorHarness.Run(Contracts.All[scenario]);
        Assert.Empty(diagnostics);
        var generated = Assert.Single(run.GeneratedTrees).ToString();

        // The generated code compiles, and with no warnings of its own (nullable, documentation, the compiler's checks);
        // the test contracts themselves carry no XML docs, so warnings in them are not the generator's.
        var all = output.GetDiagnostics(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(all, d => d.Severity == DiagnosticSeverity.Error);
        var problems = all.Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree is { } tree && run.GeneratedTrees.Contains(tree)).ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems.Select(p => p.ToString())));

        var golden = Path.Combine(AppContext.BaseDirectory, "Golden", scenario + ".g.cs");
        if (Environment.GetEnvironmentVariable("CONEC_REGENERATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), "Golden", scenario + ".g.cs"), generated);
            return;
        }

        Assert.True(File.Exists(golden), $"No golden file for {scenario}; run with CONEC_REGENERATE_GOLDEN=1 to create it.");
        Assert.Equal(File.ReadAllText(golden), generated);
    }

    [Theory, MemberData(nameof(Scenarios))]
    public void GeneratedCodeCarriesNothingItDoesNotUse(string scenario)
    {
        var run = GeneratorHarness.Run(Contracts.All[scenario]).Run;
        var generated = Assert.Single(run.GeneratedTrees).ToString();
        Assert.DoesNotContain("_ = ", generated, StringComparison.Ordinal); // discards that only quiet an unused parameter
        Assert.DoesNotContain("\n\n\n", generated, StringComparison.Ordinal);
        Assert.DoesNotMatch(@":\n\s*\n", generated); // a blank line under a case label
        Assert.DoesNotMatch(@"MessagePackWriter writer\)", generated); // a writer of no arguments
        Assert.DoesNotMatch(@"\bm => (?![^\n]*\bm\.)", generated); // a matched message whose properties are not read
        Assert.DoesNotContain("args.Item", generated, StringComparison.Ordinal); // arguments are locals named after their parameters

        // A resolver that would serve nothing is not generated.
        var model = (Model.ContractModel)run.Results.Single().TrackedSteps[ConecStreamGenerator.Steps.Models].Single().Outputs.Single().Value;
        Assert.Equal(model.MessageTypes.Count > 0, generated.Contains("Resolver", StringComparison.Ordinal));
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var first = GeneratorHarness.Run(Contracts.All["Rpc"]).Run.GeneratedTrees.Single().ToString();
        var second = GeneratorHarness.Run(Contracts.All["Rpc"]).Run.GeneratedTrees.Single().ToString();
        Assert.Equal(first, second);
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
