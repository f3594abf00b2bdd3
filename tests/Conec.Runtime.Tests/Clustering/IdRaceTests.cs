using Conec.Tests.Transport;

namespace Conec.Tests.Clustering;

/// <summary>Two hellos with one id, on two nodes at the same moment: exactly one is admitted, every time.</summary>
[Trait("Category", "Cluster")]
public sealed class IdRaceTests
{
    private const int Rounds = 40;

    [Theory, TransportModes]
    public async Task Of_two_clients_racing_for_one_id_on_two_nodes_exactly_one_wins_in_every_round(TransportMode mode)
    {
        await using var nodes = await NodeSet.StartAsync(mode, 2);
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var winners = new int[2];
        for (var round = 0; round < Rounds; round++)
        {
            var id = $"racer{round}";
            using var start = new SemaphoreSlim(0, 2);
            var attempts = Enumerable.Range(0, 2).Select(node => Task.Run(async () =>
            {
                var config = nodes.ClientConfig(id, node);
                await start.WaitAsync(ct);
                try
                {
                    return await Client.ConnectAsync(config, ct);
                }
                catch (ConecException e) when (e.Error == ConecError.IdInUse)
                {
                    return null;
                }
            }, ct)).ToArray();
            start.Release(2);
            var clients = await Task.WhenAll(attempts);

            var admitted = clients.Where(c => c is not null).ToArray();
            Assert.True(admitted.Length == 1, $"round {round}: {admitted.Length} clients were admitted with the id '{id}'");
            winners[Array.FindIndex(clients, c => c is not null)]++;

            // The winner is really in: its id is taken on both nodes until it leaves.
            var late = await Assert.ThrowsAsync<ConecException>(() => Client.ConnectAsync(nodes.ClientConfig(id, round % 2), ct));
            Assert.Equal(ConecError.IdInUse, late.Error);
            await admitted[0]!.DisposeAsync();
        }

        Assert.Equal(Rounds, winners.Sum());
    }
}
