using Microsoft.AspNetCore.SignalR;

namespace Conec.Benchmarks;

/// <summary>The SignalR side of the fan-out comparison: a hub group that relays each published message to every member.</summary>
public sealed class FanOutHub : Hub
{
    public const string Group = "fan";

    public Task Join() => Groups.AddToGroupAsync(Context.ConnectionId, Group);

    public Task Publish(byte[] payload) => Clients.Group(Group).SendAsync("message", payload);
}
