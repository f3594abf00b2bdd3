using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Conec.Generators.Tests;

/// <summary>The pipeline caches: unchanged contracts are not re-parsed into new models nor re-emitted, and models hold no compiler objects.</summary>
public sealed class IncrementalityTests
{
    [Fact]
    public void RunningTwiceOnTheSameInputCachesEveryStep()
    {
        var compilation = GeneratorHarness.Compile(Contracts.All["Rpc"]);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        driver = driver.RunGenerators(compilation.Clone(), TestContext.Current.CancellationToken);
        AssertAllCachedOrUnchanged(driver.GetRunResult());
    }

    [Fact]
    public void AnUnrelatedEditLeavesTheContractStepsUnchanged()
    {
        var compilation = GeneratorHarness.Compile(Contracts.All["OneWay"], "namespace Other; public static class Unrelated { }");
        var driver = GeneratorHarness.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("namespace Other; public static class Unrelated { public static int Added => 1; }", GeneratorHarness.ParseOptions, path: "Source1.cs", cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);
        AssertAllCachedOrUnchanged(driver.GetRunResult());
    }

    [Fact]
    public void AnEditInTheContractsFileThatLeavesTheModelAloneIsCached()
    {
        // A comment ahead of the contract shifts its position, and a body changes in a type beside it: the file is
        // re-parsed, but the model compares equal, so nothing downstream runs.
        const string Helper = "\npublic static class Lines { public static int Twice(int x) => x * 2; }\n";
        var source = Contracts.All["OneWay"] + Helper;
        var compilation = GeneratorHarness.Compile(source);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        var editedSource = "// Lines of a chat.\n" + source.Replace("x * 2", "x + x", StringComparison.Ordinal);
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(editedSource, GeneratorHarness.ParseOptions, path: "Source0.cs", cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);

        var run = driver.GetRunResult();
        AssertAllCachedOrUnchanged(run);

        // The contract was parsed again (Unchanged, not merely Cached): the edit did reach the contract's file.
        var contracts = run.Results.Single().TrackedSteps[ConecStreamGenerator.Steps.Contracts];
        Assert.Contains(contracts.SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void AnEditToTheContractIsSeen()
    {
        var compilation = GeneratorHarness.Compile(Contracts.All["Rpc"]);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation, TestContext.Current.CancellationToken);
        var edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(Contracts.All["Rpc"].Replace("Task<string> Name();", "Task<string> Title();", StringComparison.Ordinal), GeneratorHarness.ParseOptions, path: "Source0.cs", cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGenerators(edited, TestContext.Current.CancellationToken);
        var models = driver.GetRunResult().Results.Single().TrackedSteps[ConecStreamGenerator.Steps.Models];
        Assert.Contains(models.SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void TheModelsHoldNoSymbolsSyntaxOrCompilations()
    {
        var run = GeneratorHarness.Run(Contracts.All.Values.ToArray()).Run;
        var steps = run.Results.Single().TrackedSteps;
        var outputs = new[] { ConecStreamGenerator.Steps.Contracts, ConecStreamGenerator.Steps.GeneratedNames }
            .SelectMany(name => steps[name]).SelectMany(s => s.Outputs).Select(o => o.Value).ToArray();
        Assert.NotEmpty(outputs);
        foreach (var output in outputs)
        {
            AssertNoCompilerObjects(output, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }
    }

    private static void AssertAllCachedOrUnchanged(GeneratorDriverRunResult run)
    {
        var steps = run.Results.Single().TrackedSteps;
        foreach (var name in new[] { ConecStreamGenerator.Steps.Contracts, ConecStreamGenerator.Steps.Models })
        {
            Assert.True(steps.ContainsKey(name), $"Step {name} was not tracked.");
            foreach (var output in steps[name].SelectMany(s => s.Outputs))
            {
                Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name} ran again: {output.Reason}.");
            }
        }
    }

    private static void AssertNoCompilerObjects(object? value, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location, $"The model holds a {value.GetType().Name}.");
        if (value is IEnumerable items)
        {
            foreach (var item in items)
            {
                AssertNoCompilerObjects(item, seen);
            }

            return;
        }

        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoCompilerObjects(field.GetValue(value), seen);
        }
    }
}
