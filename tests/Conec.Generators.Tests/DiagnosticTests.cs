using Microsoft.CodeAnalysis;

namespace Conec.Generators.Tests;

/// <summary>One test per diagnostic: the id, and the exact place it points at.</summary>
public sealed class DiagnosticTests
{
    internal const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Conec;

        """;

    [Fact]
    public void CONEC0001_DuplicateMethodIds() => AssertDiagnostic("CONEC0001", "Twice", """
        [ConecStream]
        public interface IC
        {
            [ConecMethod(Id = 4)] ValueTask Once(int a);
            [ConecMethod(Id = 4)] ValueTask Twice(int a);
        }
        """);


    [Fact]
    public void CONEC0002_GenericMethod() => AssertDiagnostic("CONEC0002", "Echo", """
        [ConecStream]
        public interface IC
        {
            ValueTask Echo<T>(T value);
        }
        """);

    [Fact]
    public void CONEC0003_ByReferenceParameter() => AssertDiagnostic("CONEC0003", "count", """
        [ConecStream]
        public interface IC
        {
            ValueTask Take(ref int count);
        }
        """);

    [Fact]
    public void CONEC0004_UnsupportedReturnType() => AssertDiagnostic("CONEC0004", "Sum", """
        [ConecStream]
        public interface IC
        {
            int Sum(int a, int b);
        }
        """);

    [Fact]
    public void CONEC0004_SynchronousSequencesAreNotSupported() => AssertDiagnostic("CONEC0004", "Ticks", """
        [ConecStream]
        public interface IC
        {
            IEnumerable<int> Ticks();
        }
        """);

    [Fact]
    public void CONEC0004_ReturnByReference() => AssertDiagnostic("CONEC0004", "Current", """
        [ConecStream]
        public interface IC
        {
            ref Task Current();
        }
        """);

    [Fact]
    public void CONEC0005_Property() => AssertDiagnostic("CONEC0005", "Name", """
        [ConecStream]
        public interface IC
        {
            string Name { get; }
        }
        """);

    [Fact]
    public void CONEC0005_Event() => AssertDiagnostic("CONEC0005", "Changed", """
        [ConecStream]
        public interface IC
        {
            event EventHandler Changed;
        }
        """);

    [Fact]
    public void CONEC0006_MessageTypeWithoutMessagePackObject() => AssertDiagnostic("CONEC0006", "point", """
        public sealed class Point { public int X { get; set; } }

        [ConecStream]
        public interface IC
        {
            ValueTask Move(Point point);
        }
        """);

    [Fact]
    public void CONEC0007_AnUnexpectedFailureBecomesADiagnostic()
    {
        Parsing.ContractParser.FailureForTests = "IBoom";
        try
        {
            AssertDiagnostic("CONEC0007", "IBoom", """
                [ConecStream]
                public interface IBoom
                {
                    ValueTask Go();
                }
                """);
        }
        finally
        {
            Parsing.ContractParser.FailureForTests = null;
        }
    }

    [Fact]
    public void CONEC0008_GenericContract() => AssertDiagnostic("CONEC0008", "IC", """
        [ConecStream]
        public interface IC<T>
        {
            ValueTask Send(int value);
        }
        """);

    [Fact]
    public void CONEC0009_MisplacedCancellationToken() => AssertDiagnostic("CONEC0009", "cancellationToken", """
        [ConecStream]
        public interface IC
        {
            ValueTask<int> Get(CancellationToken cancellationToken, int id);
        }
        """);

    [Fact]
    public void CONEC0010_AValueSerializedAtRunTimeIsReportedAndStillGenerated()
    {
        const string Contract = """
            [ConecStream]
            public interface IC
            {
                ValueTask Pay(decimal amount, int times);
            }
            """;
        AssertDiagnostic("CONEC0010", "amount", Contract, severity: DiagnosticSeverity.Info);

        // Information only: the contract's code is generated, and it compiles.
        var (output, _, run) = GeneratorHarness.Run(Usings + Contract);
        var generated = Assert.Single(run.GeneratedTrees);
        Assert.Empty(output.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Location.SourceTree == generated && d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void CONEC0012_AParameterThatCannotBeSent() => AssertDiagnostic("CONEC0012", "work", """
        [ConecStream]
        public interface IC
        {
            ValueTask Run(Func<int> work);
        }
        """);

    [Fact]
    public void CONEC0012_AResultThatCannotBeSentPointsAtTheReturnType() => AssertDiagnostic("CONEC0012", "Task<IAsyncEnumerable<int>>", """
        [ConecStream]
        public interface IC
        {
            Task<IAsyncEnumerable<int>> Ticks();
        }
        """);

    [Fact]
    public void CONEC0012_AValueThatCannotBeSentInsideAMessageTypeNamesTheMember()
    {
        var diagnostic = AssertDiagnostic("CONEC0012", "job", """
            [MessagePack.MessagePackObject]
            public sealed class Job { [MessagePack.Key(0)] public Task? Done { get; set; } }

            [ConecStream]
            public interface IC
            {
                ValueTask Start(List<Job> job);
            }
            """);
        Assert.Contains("Job.Done", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void CONEC0013_StaticAbstractMember() => AssertDiagnostic("CONEC0013", "Create", """
        [ConecStream]
        public interface IC
        {
            ValueTask Send(int value);
            static abstract IC Create();
        }
        """);

    [Fact]
    public void CONEC0014_InheritedMembersPointAtTheBaseInterface() => AssertDiagnostic("CONEC0014", "IBase", """
        public interface IBase
        {
            ValueTask Hello(int value);
        }

        [ConecStream]
        public interface IC : IBase
        {
            ValueTask Send(int value);
        }
        """, occurrence: 2);

    [Fact]
    public void CONEC0015_ProtectedMember() => AssertDiagnostic("CONEC0015", "Reset", """
        [ConecStream]
        public interface IC
        {
            ValueTask Send(int value);
            protected ValueTask Reset();
        }
        """);

    [Theory]
    [InlineData("private")]
    [InlineData("protected")]
    [InlineData("private protected")]
    public void CONEC0016_AContractTheGeneratedCodeCannotReach(string access) => AssertDiagnostic("CONEC0016", "IC", $$"""
        public class Outer
        {
            [ConecStream]
            {{access}} interface IC
            {
                ValueTask Send(int value);
            }
        }
        """);

    [Fact]
    public void CONEC0016_AFileLocalContract() => AssertDiagnostic("CONEC0016", "IC", """
        [ConecStream]
        file interface IC
        {
            ValueTask Send(int value);
        }
        """);

    [Fact]
    public void CONEC0016_AContractInsideAPrivateType() => AssertDiagnostic("CONEC0016", "IC", """
        public class Outer
        {
            private static class Inner
            {
                [ConecStream]
                internal interface IC
                {
                    ValueTask Send(int value);
                }
            }
        }
        """);

    [Fact]
    public void CONEC0017_OverloadsEvenWithTheirOwnIds() => AssertDiagnostic("CONEC0017", "Send", """
        [ConecStream]
        public interface IC
        {
            [ConecMethod(Id = 1)] ValueTask Send(int a);
            [ConecMethod(Id = 2)] ValueTask Send(string a);
        }
        """, occurrence: 2);

    [Theory]
    [InlineData("ValueTask DisposeAsync();")]
    [InlineData("ValueTask ToString(int value);")]
    [InlineData("ValueTask<int> CClient(int value);")]
    [InlineData("ValueTask CMessage(int value);")]
    [InlineData("ValueTask<int> CCodec(int value);")]
    public void CONEC0018_ANameTheGeneratedCodeNeeds(string method) => AssertDiagnostic("CONEC0018", method.Split(' ', '(')[1], $$"""
        [ConecStream]
        public interface IC
        {
            {{method}}
        }
        """);

    [Fact]
    public void CONEC0018_AMethodWhoseArgumentsEncodeLikeAnotherMethodsResult() => AssertDiagnostic("CONEC0018", "GetResult", """
        [ConecStream]
        public interface IC
        {
            ValueTask GetResult(int value);
            ValueTask<int> Get();
        }
        """);

    [Fact]
    public void CONEC0019_ContractsWhoseGeneratedTypesCollide()
    {
        const string Contracts = """
            public static class Left
            {
                [ConecStream]
                public interface IPing
                {
                    ValueTask Ping(int value);
                }
            }

            public static class Right
            {
                [ConecStream]
                public interface IPing
                {
                    ValueTask Ping(int value);
                }
            }
            """;
        AssertDiagnostic("CONEC0019", "IPing", Contracts, occurrence: 2);

        // Each contract still gets its own file: a shared file name used to fail the whole generator.
        Assert.Equal(2, GeneratorHarness.Run(Usings + Contracts).Run.GeneratedTrees.Length);
    }

    [Fact]
    public void MembersWithBodiesThatCannotBeOverriddenAreTheInterfacesOwn()
    {
        // Private, sealed and static members with bodies are helpers: no diagnostic, no message, and code that compiles.
        var (output, diagnostics, run) = GeneratorHarness.Run(Usings + """
            public interface IGreeting
            {
                ValueTask Greet(string name) => default;
            }

            [ConecStream]
            public interface IC : IGreeting
            {
                ValueTask Send(int value);
                ValueTask SendTwice(int value) => Send(value);
                private ValueTask Helper() => Send(0);
                sealed ValueTask Zero() => Helper();
                static int Limit => 10;
                static ValueTask Nothing() => default;
            }
            """);
        Assert.Empty(diagnostics);
        var generated = Assert.Single(run.GeneratedTrees);
        Assert.Empty(output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("public const int SendTwice", generated.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Helper", generated.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Zero", generated.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryDiagnosticHasTitleHelpAndAReleaseEntry()
    {
        var releases = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "AnalyzerReleases.Unshipped.md"));
        Assert.Equal(Enumerable.Range(1, Diagnostics.All.Length).Select(i => $"CONEC{i:0000}"), Diagnostics.All.Select(d => d.Id));
        foreach (var id in Diagnostics.All.Select(d => d.Id))
        {
            var descriptor = Diagnostics.ById(id);
            Assert.False(string.IsNullOrWhiteSpace(descriptor.Title.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.False(string.IsNullOrWhiteSpace(descriptor.Description.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.EndsWith(id.ToLowerInvariant(), descriptor.HelpLinkUri, StringComparison.Ordinal);
            Assert.Contains(id, releases, StringComparison.Ordinal);
        }
    }

    internal static Diagnostic AssertDiagnostic(string id, string target, string contract, int occurrence = 1, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        var source = Usings + contract;
        var (_, diagnostics, _) = GeneratorHarness.Run(source);
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(severity, diagnostic.Severity);

        // The diagnostic points at the offending identifier itself (the n-th whole-word occurrence).
        var start = -1;
        for (var i = 0; i < occurrence; i++)
        {
            do
            {
                start = source.IndexOf(target, start + 1, StringComparison.Ordinal);
            }
            while (start > 0 && (char.IsLetterOrDigit(source[start - 1]) || char.IsLetterOrDigit(source[start + target.Length])));
        }

        Assert.Equal(start, diagnostic.Location.SourceSpan.Start);
        Assert.Equal(target.Length, diagnostic.Location.SourceSpan.Length);
        return diagnostic;
    }
}
