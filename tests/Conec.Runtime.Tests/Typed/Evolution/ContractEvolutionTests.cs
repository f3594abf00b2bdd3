using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Typed;

/// <summary>
/// Two versions of one contract talk to each other: keys and methods added in version 2 are skipped by version 1,
/// missing keys are defaults in version 2, and a method version 1 lacks gets a clear error, not a dead stream.
/// </summary>
public sealed class ContractEvolutionTests
{
    [Theory, TransportModes]
    public async Task ANewCallerTalksToAnOldServer(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var old = new V1.Store();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        var serving = V1.StoreServer.ServeAsync(old, await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await using var store = new V2.StoreClient(pair);

        // The old server skips the key it does not know; what it sends back lacks it, and the new caller fills its default.
        await store.Put(new V2.Item("bolt", 3, "steel"));
        Assert.Equal(new V1.Item("bolt", 3), old.Items["bolt"]);
        Assert.Equal(new V2.Item("bolt", 3, null), await store.Find("bolt"));
        var shelf = await store.Echo(new V2.Shelf { Name = "top", Tags = ["a"], Capacity = 3 });
        Assert.Equal(("top", "untagged", 10), (shelf.Name, Assert.Single(shelf.Tags), shelf.Capacity));

        // A method the old contract lacks: a clear error for that call, and the stream serves on.
        var unknown = await Assert.ThrowsAsync<ConecException>(async () => await store.Count());
        Assert.Equal(ConecError.UnknownMethod, unknown.Error);
        Assert.Contains($"no method with id {V2.StoreMethodIds.Count}", unknown.Message, StringComparison.Ordinal);

        // A one-way message it lacks is skipped: the next message still arrives.
        await store.Log("ignored by version 1");
        await store.Note("seen");
        Assert.Equal(new V2.Item("bolt", 3, null), await store.Find("bolt"));
        Assert.Equal(["seen"], old.Notes);

        await store.DisposeAsync();
        await serving.WaitAsync(ct);
    }

    [Theory, TransportModes]
    public async Task AnOldCallerTalksToANewServer(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var current = new V2.Store();
        var pair = await client.NewProxiedStreamAsync("client1", ct);
        _ = V2.StoreServer.ServeAsync(current, await Messages.NextAsync(client.IncomingStreams, ct), ct);
        await using var store = new V1.StoreClient(pair);

        // What the old caller leaves out, the new server reads as the defaults.
        await store.Put(new V1.Item("nut", 7));
        Assert.Equal(new V2.Item("nut", 7, null), current.Items["nut"]);
        var echoed = await store.Echo(new V1.Shelf { Name = "low" });
        var seen = Assert.Single(current.Shelves);
        Assert.Equal(("low", "untagged", 10), (seen.Name, Assert.Single(seen.Tags), seen.Capacity));
        Assert.Equal("low", echoed.Name); // and the old caller skips the keys the new server wrote

        current.Items["nut"] = new V2.Item("nut", 8, "brass");
        Assert.Equal(new V1.Item("nut", 8), await store.Find("nut"));
    }

    [Fact]
    public void RpcFramesWithFieldsAddedByALaterVersionStillParse()
    {
        static byte[] Frame(params object?[] fields) => MessagePack.MessagePackSerializer.Serialize(fields, cancellationToken: TestContext.Current.CancellationToken);

        // A request with an eighth field, and a credit and an error with a field more than this version writes.
        var request = Frame(0, 5L, 9, new object[] { 1 }, null, null, 250L, "later");
        var parsed = RpcFrame.Parse(request);
        Assert.Equal((RpcFrame.Request, 5L, 9, 250L), (parsed.Kind, parsed.CallId, parsed.MethodId, parsed.TimeoutMilliseconds));
        Assert.Equal(0, parsed.Window);
        Assert.Equal(64L, RpcFrame.Parse(Frame(6, 5L, 64L, "later")).Window);
        var error = RpcFrame.Parse(Frame(3, 5L, "T", "m", 33, "later"));
        Assert.Equal(ConecError.UnknownMethod, Assert.IsType<ConecException>(RpcFrame.ReadError(error.Rest)).Error);
    }
}
