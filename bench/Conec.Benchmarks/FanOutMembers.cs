using System.Net;

namespace Conec.Benchmarks;

/// <summary>One broadcast sender and the most receivers any fan-out row uses, connected once for a whole run.</summary>
internal sealed class FanOutMembers : IAsyncDisposable
{
    private FanOutMembers(Client sender, List<Client> receivers)
    {
        Sender = sender;
        Receivers = receivers;
    }

    public Client Sender { get; }

    public List<Client> Receivers { get; }

    public static async Task<FanOutMembers> ConnectAsync(IPEndPoint endPoint, BenchmarkCertificates certificates, int receiverCount)
    {
        var sender = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "fan-sender");
        var members = new FanOutMembers(sender, []);
        try
        {
            for (var i = 0; i < receiverCount; i++)
            {
                members.Receivers.Add(await CoordinationBenchmark.ConnectAsync(endPoint, certificates, $"fan-{i}"));
            }

            return members;
        }
        catch
        {
            await members.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Sender.DisposeAsync();
        foreach (var receiver in Receivers)
        {
            await receiver.DisposeAsync();
        }
    }
}
