using Microsoft.AspNetCore.SignalR;

namespace Conec.Benchmarks;

/// <summary>The SignalR side of the echo-with-the-coordinator latency rows: a hub method that returns its argument.</summary>
public sealed class EchoHub : Hub
{
    public const string Path = "/echo";

    public byte[] Echo(byte[] payload) => payload;
}
