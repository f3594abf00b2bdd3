using Microsoft.CodeAnalysis;

namespace Conec.Generators.Tests;

/// <summary>
/// Names the generator chooses (locals, fields, record properties, the broadcast sender) never collide with the
/// names a contract and its message types choose, so any valid parameter or member name gives code that compiles.
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

            [MessagePack.MessagePackObject]
            public sealed class Named
            {
                [MessagePack.Key(0)] public int Reader { get; set; }
                [MessagePack.Key(1)] public int Count { get; set; }
                [MessagePack.Key(2)] public int count;
                [MessagePack.Key(3)] public int I { get; set; }
                [MessagePack.Key(4)] public int @event;
                [MessagePack.Key(5)] public string @class { get; set; } = "";
            }

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

                ValueTask Members(Named named);
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
