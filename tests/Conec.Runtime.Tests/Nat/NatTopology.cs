using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Conec.Tests.Nat;

/// <summary>
/// A small internet in network namespaces: a public namespace (where the coordinator runs) joined by veth pairs to
/// router namespaces that masquerade (nftables) for the hosts behind them, and to hosts with public addresses.
/// Routers drop unsolicited inbound TCP, as home routers do. Nothing is joined to the test's own namespace, so no
/// traffic leaves the topology. Disposing deletes every namespace, which deletes its links and rules with it.
/// </summary>
internal sealed class NatTopology : IDisposable
{
    /// <summary>Set by CI (.ci/run): a machine that cannot build the topology fails the NAT tests instead of skipping them.</summary>
    public const string RequiredVariable = "CONEC_REQUIRE_NAT";

    private static int _created;
    private readonly string _tag;
    private readonly List<string> _namespaces = [];
    private int _subnets;
    private bool _disposed;

    private NatTopology(string tag)
    {
        _tag = tag;
    }

    /// <summary>The public namespace: the coordinator's.</summary>
    public string Public => "cnp" + _tag;

    /// <summary>The coordinator's address in <see cref="Public"/>.</summary>
    public IPAddress CoordinatorAddress { get; } = IPAddress.Parse("198.18.0.1");

    /// <summary>
    /// Builds the public namespace, or skips the test with the reason this machine cannot (not Linux, not root, no
    /// <c>ip</c> or <c>nft</c>, or a kernel without namespaces or NAT); with <see cref="RequiredVariable"/> set, fails it.
    /// </summary>
    public static NatTopology Create()
    {
        string? unavailable = null;
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            unavailable = "network namespaces and nftables need Linux and root";
        }

        var topology = new NatTopology(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _created)}"));
        try
        {
            unavailable ??= topology.TryCreatePublic();
        }
        catch
        {
            topology.Dispose();
            throw;
        }

        if (unavailable is not null)
        {
            topology.Dispose();
            var reason = $"No NAT topology on this machine: {unavailable}";
            Assert.True(Environment.GetEnvironmentVariable(RequiredVariable) != "1", reason);
            Assert.Skip(reason);
        }

        return topology;
    }

    /// <summary>Adds a host with a public address, joined to the public namespace; returns its namespace.</summary>
    public string AddPublicHost(string name)
    {
        var host = "cn" + name + _tag;
        var subnet = NextSubnet();
        Require(["ip", "netns", "add", host]);
        _namespaces.Add(host);
        Require(["ip", "-n", Public, "link", "add", "to" + name, "type", "veth", "peer", "name", "eth0", "netns", host]);
        Configure(Public, "to" + name, subnet + ".1/24");
        Configure(host, "eth0", subnet + ".2/24");
        Require(["ip", "-n", host, "route", "add", "default", "via", subnet + ".1"]);
        return host;
    }

    /// <summary>
    /// Adds a router that masquerades (<paramref name="masquerade"/>: "masquerade", or "masquerade fully-random" for
    /// a NAT that picks a new port for every connection) and drops unsolicited inbound TCP; returns its namespace.
    /// </summary>
    public string AddRouter(string name, string masquerade)
    {
        var router = "cn" + name + _tag;
        var wan = NextSubnet();
        Require(["ip", "netns", "add", router]);
        _namespaces.Add(router);
        Require(["ip", "-n", Public, "link", "add", "to" + name, "type", "veth", "peer", "name", "wan", "netns", router]);
        Configure(Public, "to" + name, wan + ".1/24");
        Configure(router, "wan", wan + ".2/24");
        Require(["ip", "-n", router, "route", "add", "default", "via", wan + ".1"]);
        Forward(router);
        Require(["ip", "netns", "exec", router, "nft", "add", "table", "ip", "nat"]);
        Require(["ip", "netns", "exec", router, "nft", "add", "chain", "ip", "nat", "post", "{", "type", "nat", "hook", "postrouting", "priority", "100", ";", "}"]);
        Require(["ip", "netns", "exec", router, "nft", "add", "rule", "ip", "nat", "post", "oifname", "wan", .. masquerade.Split(' ')]);
        Require(["ip", "netns", "exec", router, "nft", "add", "table", "ip", "filter"]);
        foreach (var hook in new[] { "input", "forward" })
        {
            Require(["ip", "netns", "exec", router, "nft", "add", "chain", "ip", "filter", hook, "{", "type", "filter", "hook", hook, "priority", "0", ";", "}"]);
            Require(["ip", "netns", "exec", router, "nft", "add", "rule", "ip", "filter", hook, "iifname", "wan", "ct", "state", "new", "drop"]);
        }

        return router;
    }

    /// <summary>Adds a host behind <paramref name="router"/>, on a private subnet of its own; returns its namespace.</summary>
    public string AddPrivateHost(string router, string name)
    {
        var host = "cn" + name + _tag;
        var lan = string.Create(CultureInfo.InvariantCulture, $"10.{Interlocked.Increment(ref _subnets)}.0");
        Require(["ip", "netns", "add", host]);
        _namespaces.Add(host);
        Require(["ip", "-n", router, "link", "add", "to" + name, "type", "veth", "peer", "name", "eth0", "netns", host]);
        Configure(router, "to" + name, lan + ".1/24");
        Configure(host, "eth0", lan + ".2/24");
        Require(["ip", "-n", host, "route", "add", "default", "via", lan + ".1"]);
        return host;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var failures = new List<string>();
        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            if (Run(["ip", "netns", "del", name]) is { } failure && !failure.Contains("No such file", StringComparison.Ordinal))
            {
                failures.Add($"{name}: {failure}");
            }
        }

        Assert.True(failures.Count == 0, $"Deleting the NAT topology's namespaces failed: {string.Join("; ", failures)}");
    }

    private string? TryCreatePublic()
    {
        if (Run(["nft", "--version"]) is { } noNft)
        {
            return $"`nft` is missing ({noNft}); install nftables";
        }

        if (Run(["ip", "netns", "add", Public]) is { } failure)
        {
            return $"`ip netns add` failed here: {failure}";
        }

        _namespaces.Add(Public);
        Run(["ip", "-n", Public, "link", "set", "lo", "up"]);
        Require(["ip", "-n", Public, "addr", "add", CoordinatorAddress + "/32", "dev", "lo"]);
        Forward(Public);

        // A throwaway masquerade rule proves this kernel has NAT before any test relies on it.
        return Run(["ip", "netns", "exec", Public, "nft", "add", "table", "ip", "probe"]) is { } noTables ? $"nftables cannot add a table here: {noTables}"
            : Run(["ip", "netns", "exec", Public, "nft", "add", "chain", "ip", "probe", "post", "{", "type", "nat", "hook", "postrouting", "priority", "100", ";", "}"]) is { } noNat
                ? $"this kernel has no nftables NAT: {noNat}"
                : Run(["ip", "netns", "exec", Public, "nft", "delete", "table", "ip", "probe"]);
    }

    private string NextSubnet() => string.Create(CultureInfo.InvariantCulture, $"198.18.{Interlocked.Increment(ref _subnets)}");

    private static void Configure(string space, string device, string address)
    {
        Require(["ip", "-n", space, "addr", "add", address, "dev", device]);
        Require(["ip", "-n", space, "link", "set", device, "up"]);
        Require(["ip", "-n", space, "link", "set", "lo", "up"]);
    }

    private static void Forward(string space) => Require(["ip", "netns", "exec", space, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);

    private static void Require(string[] command)
    {
        var failure = Run(command);
        Assert.True(failure is null, $"`{string.Join(' ', command)}` failed: {failure}");
    }

    /// <summary>Runs a command to its end (at most 20 s); returns its error output when it fails, else null.</summary>
    private static string? Run(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), $"`{string.Join(' ', command)}` did not finish within 20 s.");
            return process.ExitCode == 0 ? null : error.Result.Trim() is { Length: > 0 } text ? text : $"exit code {process.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
