using MessagePack;

// Version 1 of a contract; StoreV2.cs is the same contract, evolved. Both generate into their own namespace, with
// the same wire names and ids, as two builds of one contract would.
namespace Conec.Tests.Typed.V1;

[MessagePackObject]
public sealed record Item([property: Key(0)] string Name, [property: Key(1)] int Count);

[MessagePackObject]
public sealed class Shelf
{
    [Key(0)]
    public string Name { get; set; } = "";
}

[ConecStream]
public interface IStore
{
    ValueTask<Item?> Find(string name);

    [ConecMethod(Call = true)]
    ValueTask Put(Item item);

    ValueTask<Shelf> Echo(Shelf shelf);

    ValueTask Note(string text);
}

internal sealed class Store : IStore
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, Item> Items { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<string> Notes { get; } = new();

    public ValueTask<Item?> Find(string name) => ValueTask.FromResult(Items.GetValueOrDefault(name));

    public ValueTask Put(Item item)
    {
        Items[item.Name] = item;
        return ValueTask.CompletedTask;
    }

    public ValueTask<Shelf> Echo(Shelf shelf) => ValueTask.FromResult(shelf);

    public ValueTask Note(string text)
    {
        Notes.Enqueue(text);
        return ValueTask.CompletedTask;
    }
}
