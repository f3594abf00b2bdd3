using MessagePack;

// Version 2 of StoreV1.cs: a key added to each message, a method with a result and a one-way method added.
namespace Conec.Tests.Typed.V2;

[MessagePackObject]
public sealed record Item([property: Key(0)] string Name, [property: Key(1)] int Count, [property: Key(2)] string? Label = null);

[MessagePackObject]
public sealed class Shelf
{
    [Key(0)]
    public string Name { get; set; } = "";

    [Key(1)]
    public List<string> Tags { get; set; } = ["untagged"];

    [Key(2)]
    public int Capacity { get; set; } = 10;
}

[ConecStream]
public interface IStore
{
    ValueTask<Item?> Find(string name);

    [ConecMethod(Call = true)]
    ValueTask Put(Item item);

    ValueTask<Shelf> Echo(Shelf shelf);

    ValueTask Note(string text);

    ValueTask<int> Count();

    ValueTask Log(string line);
}

internal sealed class Store : IStore
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, Item> Items { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<Shelf> Shelves { get; } = new();

    public ValueTask<Item?> Find(string name) => ValueTask.FromResult(Items.GetValueOrDefault(name));

    public ValueTask Put(Item item)
    {
        Items[item.Name] = item;
        return ValueTask.CompletedTask;
    }

    public ValueTask<Shelf> Echo(Shelf shelf)
    {
        Shelves.Enqueue(shelf);
        return ValueTask.FromResult(shelf);
    }

    public ValueTask Note(string text) => ValueTask.CompletedTask;

    public ValueTask<int> Count() => ValueTask.FromResult(Items.Count);

    public ValueTask Log(string line) => ValueTask.CompletedTask;
}
