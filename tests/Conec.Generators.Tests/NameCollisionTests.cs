using Microsoft.CodeAnalysis;

namespace Conec.Generators.Tests;

/// <summary>
/// Names the generator chooses (locals, fields, record properties, the broadcast sender) never collide with the
/// names a contract chooses, so any valid parameter name gives code that compiles.
/// </summary>
public sealed class NameCollisionTests
{
    [Fact]
    public void ParametersNamedLikeTheGeneratedCodesOwnNamesCompile()
    {
        var (output, diagnostics, run) = GeneratorHarness.Run("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Conec;

            namespace Demo.Names;

            [ConecStream]
            public interface IAwkward
            {
                ValueTask<int> Locals(int writer, int buffer, int reader, int arguments, int value);

                ValueTask<int> Dispatch(int implementation, int methodId, int items, int result, int item, int args, int token, CancellationToken cancellationToken);

                IAsyncEnumerable<int> Stream(int item, int items, CancellationToken cancellationToken);

                ValueTask Fields(int _stream, int _buffer, int _rpc, int _source);

                ValueTask Senders(int sender, int fromClient);

                ValueTask Cases(int a, int A);

                ValueTask Records(int records, int equalityContract, int awkwardMessage);

                ValueTask Siblings(int cases, int fields);

                ValueTask EncodeSiblings(int cases, int fields);

                ValueTask Keywords(int @await, int @class, int _);
            }
            """);
        Assert.Empty(diagnostics);
        var generated = Assert.Single(run.GeneratedTrees);
        var problems = output.GetDiagnostics(TestContext.Current.CancellationToken)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree == generated)
            .Select(d => d.ToString())
            .ToArray();
        Assert.True(problems.Length == 0, string.Join("\n", problems));
    }
}
