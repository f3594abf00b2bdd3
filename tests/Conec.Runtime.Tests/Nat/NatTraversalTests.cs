using System.Globalization;
using System.Text.RegularExpressions;
using Conec.Tests.Processes;

namespace Conec.Tests.Nat;

/// <summary>
/// Direct channels through real NAT: a coordinator and clients in network namespaces, behind routers that masquerade
/// with nftables and drop unsolicited inbound TCP. Each client is a child process (Conec.NatPeer) inside its namespace.
/// </summary>
[Trait("Category", "Nat")]
[Collection(nameof(NatTraversalTests))]
public sealed partial class NatTraversalTests : IDisposable
{
    private const int Messages = 50;

    /// <summary>NewChannelAsync's bound where punching cannot work: the punch window, and room for a loaded machine.</summary>
    private static readonly TimeSpan FailureBound = TimeSpan.FromSeconds(3 + 2);

    /// <summary>NewStreamAsync's bound before it relays: ClientConfig.DirectAttemptTimeout's default, and the same room.</summary>
    private static readonly TimeSpan FallbackBound = TimeSpan.FromSeconds(2 + 2);

    private readonly string _directory = Directory.CreateTempSubdirectory("conec-nat-").FullName;

    [Fact]
    public async Task TwoClientsBehindPortPreservingNatsOpenADirectChannel()
    {
        using var topology = NatTopology.Create();
        var alice = topology.AddPrivateHost(topology.AddRouter("ra", "masquerade"), "ha");
        var bob = topology.AddPrivateHost(topology.AddRouter("rb", "masquerade"), "hb");
        var (opener, echoer) = await OpenAsync(topology, alice, bob);

        AssertDirect(opener.Output);
        Assert.Contains("incoming alice Direct", echoer.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APublicClientOpensADirectChannelToOneBehindNat()
    {
        using var topology = NatTopology.Create();
        var alice = topology.AddPublicHost("ha");
        var bob = topology.AddPrivateHost(topology.AddRouter("rb", "masquerade"), "hb");
        var (opener, _) = await OpenAsync(topology, alice, bob);

        // Before hole punching this direction failed: the router in front of bob dropped alice's connect.
        AssertDirect(opener.Output);
    }

    [Fact]
    public async Task TwoClientsBehindOneNatOpenADirectChannelOnTheirOwnAddresses()
    {
        using var topology = NatTopology.Create();
        var router = topology.AddRouter("ra", "masquerade");
        var alice = topology.AddPrivateHost(router, "ha");
        var bob = topology.AddPrivateHost(router, "hb");
        var (opener, _) = await OpenAsync(topology, alice, bob);

        // Masquerade does not hairpin: the public candidate fails, the own (LAN) address works.
        AssertDirect(opener.Output);
    }

    [Fact]
    public async Task ANatWithRandomPortsFailsTheChannelInTimeAndNewStreamRelays()
    {
        using var topology = NatTopology.Create();
        var alice = topology.AddPrivateHost(topology.AddRouter("ra", "masquerade"), "ha");
        var bob = topology.AddPrivateHost(topology.AddRouter("rb", "masquerade fully-random"), "hb");
        var (opener, _) = await OpenAsync(topology, alice, bob);

        var failed = ChannelFailed().Match(opener.Output);
        Assert.True(failed.Success, $"The channel did not fail as expected: {opener.Output}");
        Assert.Equal(nameof(ConecError.PeerUnreachable), failed.Groups[1].Value);
        Assert.True(Milliseconds(failed) <= FailureBound.TotalMilliseconds, $"NewChannelAsync failed only after {Milliseconds(failed)} ms.");
        var stream = StreamKind().Match(opener.Output);
        Assert.Equal("Proxied", stream.Groups[1].Value);
        Assert.True(Milliseconds(stream) <= FallbackBound.TotalMilliseconds, $"NewStreamAsync relayed only after {Milliseconds(stream)} ms.");
        Assert.Contains($"stream ok {Messages}", opener.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Runs a coordinator in the public namespace, bob echoing in <paramref name="bobAt"/>, alice opening from <paramref name="aliceAt"/>.</summary>
    private async Task<(ProcessRunner Opener, ProcessRunner Echoer)> OpenAsync(NatTopology topology, string aliceAt, string bobAt)
    {
        var ct = Timeouts.Token(TimeSpan.FromSeconds(90));
        await using var coord = await CoordProcess.StartAsync(_directory, TransportMode.Tcp, topology.CoordinatorAddress, 0, ct,
            command => ProcessRunner.StartCommand("ip", ["netns", "exec", topology.Public, .. command]));
        var echoer = Peer(bobAt, coord, "bob", "echo");
        try
        {
            await echoer.WaitForOutputAsync("connected", ct);
            await using var opener = Peer(aliceAt, coord, "alice", "open", "bob", Messages.ToString(CultureInfo.InvariantCulture));
            var exit = await opener.ExitCodeAsync(ct);
            Assert.True(exit == 0, $"alice exited with {exit}. Output: {opener.Output} Errors: {opener.Error} bob: {echoer.Output} {echoer.Error}");
            return (opener, echoer);
        }
        finally
        {
            await echoer.DisposeAsync();
        }
    }

    private ProcessRunner Peer(string space, CoordProcess coord, string id, params string[] role) => ProcessRunner.StartCommand("ip",
    [
        "netns", "exec", space, "dotnet", ProcessRunner.Program("tests/Conec.NatPeer", "Conec.NatPeer"), id, coord.EndPoint.Address.ToString(),
        coord.EndPoint.Port.ToString(CultureInfo.InvariantCulture), Path.Combine(_directory, "localhost.pem"), .. role,
    ]);

    private static void AssertDirect(string output)
    {
        foreach (var expected in new[] { "channel ok", $"direct ok {Messages}", "stream Direct", $"stream ok {Messages}" })
        {
            Assert.True(output.Contains(expected, StringComparison.Ordinal), $"'{expected}' is missing from alice's output: {output}");
        }
    }

    private static long Milliseconds(Match match) => long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"channel failed (\w+) (\d+)")]
    private static partial Regex ChannelFailed();

    [GeneratedRegex(@"stream (\w+) (\d+)")]
    private static partial Regex StreamKind();
}

/// <summary>
/// The NAT tests run on their own, not beside the rest of the suite: each starts three fresh processes whose first
/// connects and handshakes are JIT-bound, and on two busy cores that would measure the machine, not the bounds.
/// </summary>
[CollectionDefinition(nameof(NatTraversalTests), DisableParallelization = true)]
public sealed class NatTraversalGroup;
