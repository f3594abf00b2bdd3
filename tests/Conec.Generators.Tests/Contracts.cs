namespace Conec.Generators.Tests;

/// <summary>The contracts the golden-file scenarios cover.</summary>
internal static class Contracts
{
    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>
    {
        ["OneWay"] = """
            using System.Threading.Tasks;
            using Conec;
            using MessagePack;

            namespace Demo.Chat;

            [MessagePackObject]
            public sealed record ChatLine([property: Key(0)] string Text, [property: Key(1)] int Mood);

            [ConecStream]
            public interface IChat
            {
                ValueTask Say(ChatLine line);

                Task Leave();
            }
            """,
        ["Rpc"] = """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Conec;

            namespace Demo.Dice;

            [ConecStream]
            public interface IDice
            {
                ValueTask<int> Roll(int sides, CancellationToken cancellationToken);

                Task<string> Name();

                [ConecMethod(Id = 3, Call = true)]
                ValueTask Reset(CancellationToken cancellationToken);

                IAsyncEnumerable<int> Count(int to, CancellationToken cancellationToken);
            }
            """,
        ["NestedAndGenericMessages"] = """
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Conec;
            using MessagePack;

            namespace Demo.Inventory;

            public static class Catalog
            {
                [MessagePackObject]
                public sealed class Item
                {
                    [Key(0)] public string Name { get; set; } = "";
                    [Key(1)] public List<Item> Parts { get; set; } = new();
                }
            }

            public enum Unit { Piece, Box }

            [ConecStream]
            internal interface IInventory
            {
                ValueTask Stock(Catalog.Item item, Dictionary<string, int> counts, Unit unit);

                ValueTask<Catalog.Item[]> Find(List<string> names);
            }
            """,
        ["GlobalNamespaceAndNesting"] = """
            using System.Threading.Tasks;
            using Conec;

            public static class Outer
            {
                [ConecStream]
                public interface IPing
                {
                    ValueTask Ping(long @event);
                }
            }
            """,
        ["Streaming"] = """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Conec;
            using MessagePack;

            namespace Demo.Files;

            [MessagePackObject]
            public sealed record Chunk([property: Key(0)] byte[] Data, [property: Key(1)] long Offset);

            [ConecStream]
            public interface IFiles
            {
                ValueTask<long> Upload(string name, IAsyncEnumerable<Chunk> chunks, CancellationToken cancellationToken);

                Task Append(IAsyncEnumerable<string?> lines);

                IAsyncEnumerable<Chunk> Echo(IAsyncEnumerable<Chunk> chunks, int delay, CancellationToken cancellationToken);
            }
            """,
        ["Nullable"] = """
            using System.Threading.Tasks;
            using Conec;

            namespace Demo.Notes;

            [ConecStream]
            public interface INotes
            {
                ValueTask Note(string? title, string body, int? priority);

                ValueTask<string?> Lookup(string? key);
            }
            """,
    };
}
