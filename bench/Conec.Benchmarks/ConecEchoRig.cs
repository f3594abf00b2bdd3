using System.Net;

namespace Conec.Benchmarks;

/// <summary>The three ways a Conec client reaches an <see cref="IEcho"/> server.</summary>
internal enum EchoPath
{
    /// <summary>A stream to the coordinator (<c>NewProxiedStreamAsync(null)</c>), served on <see cref="Coord.IncomingStreams"/>: one hop.</summary>
    Coordinator,

    /// <summary>A stream on a direct channel to another client (<c>NewDirectStreamAsync</c>): one hop.</summary>
    Direct,

    /// <summary>A stream relayed by the coordinator to another client (<c>NewProxiedStreamAsync(peer)</c>): two hops.</summary>
    Relayed,
}

/// <summary>
/// A coordinator and client "bench-b" in this process, each serving <see cref="IEcho"/> with a generated
/// <c>EchoServer</c> on every stream opened to it, and client "bench-a", which calls them over each <see cref="EchoPath"/>.
/// </summary>
internal sealed class ConecEchoRig : IAsyncDisposable
{
    private readonly Coord _coord;
    private readonly Client _caller;
    private readonly Client _peer;
    private readonly StreamServing _serving;

    private ConecEchoRig(Coord coord, Client caller, Client peer)
    {
        _coord = coord;
        _caller = caller;
        _peer = peer;
        _serving = new StreamServing((stream, stopping) => EchoServer.ServeAsync(new EchoService(), stream, stopping),
            coord.IncomingStreams, peer.IncomingStreams);
    }

    public static EchoPath[] Paths { get; } = [EchoPath.Coordinator, EchoPath.Direct, EchoPath.Relayed];

    /// <summary>The coordinator's port on loopback.</summary>
    public int CoordinatorPort => _coord.LocalEndPoint.Port;

    /// <summary>The id of the serving client, for callers of <see cref="EchoPath.Direct"/> and <see cref="EchoPath.Relayed"/>.</summary>
    public string PeerId => _peer.Id;

    public static async Task<ConecEchoRig> StartAsync(BenchmarkCertificates certificates)
    {
        var coord = await CoordinationBenchmark.StartCoordAsync(certificates);
        var endPoint = new IPEndPoint(IPAddress.Loopback, coord.LocalEndPoint.Port);
        var caller = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-a");
        var peer = await CoordinationBenchmark.ConnectAsync(endPoint, certificates, "bench-b");
        await caller.NewChannelAsync(peer.Id);
        return new ConecEchoRig(coord, caller, peer);
    }

    /// <summary>A caller over a new stream of <paramref name="path"/> from "bench-a".</summary>
    public async Task<IEchoCaller> OpenAsync(EchoPath path) => new ConecEchoCaller(await OpenStreamAsync(_caller, path, _peer.Id));

    /// <summary>A new stream of <paramref name="path"/> from <paramref name="caller"/> (which must have a direct channel to <paramref name="peer"/> for <see cref="EchoPath.Direct"/>).</summary>
    public static ValueTask<StreamPair> OpenStreamAsync(Client caller, EchoPath path, string peer) => path switch
    {
        EchoPath.Coordinator => caller.NewProxiedStreamAsync(null),
        EchoPath.Direct => caller.NewDirectStreamAsync(peer),
        _ => caller.NewProxiedStreamAsync(peer),
    };

    /// <summary>How a path is named in the rows.</summary>
    public static string Label(EchoPath path) => path switch
    {
        EchoPath.Coordinator => "to coordinator",
        EchoPath.Direct => "direct",
        _ => "relayed",
    };

    public async ValueTask DisposeAsync()
    {
        await _serving.CancelAsync();
        await _caller.DisposeAsync();
        await _peer.DisposeAsync();
        await _coord.DisposeAsync();
        await _serving.DisposeAsync();
    }
}
