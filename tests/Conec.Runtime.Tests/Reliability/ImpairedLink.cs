using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Conec.Tests.Reliability;

/// <summary>
/// A network namespace joined to this one by a veth pair whose two ends delay and drop packets (<c>tc netem</c>).
/// Programs started inside the namespace are reached at <see cref="InsideAddress"/> only across the impaired link.
/// </summary>
internal sealed class ImpairedLink : IDisposable
{
    private static int _created;
    private readonly string _outsideDevice;
    private bool _disposed;

    private ImpairedLink(string name, string outsideDevice, IPAddress insideAddress)
    {
        Name = name;
        _outsideDevice = outsideDevice;
        InsideAddress = insideAddress;
    }

    /// <summary>The namespace's name, for <c>ip netns exec</c>.</summary>
    public string Name { get; }

    public IPAddress InsideAddress { get; }

    /// <summary>
    /// Creates the namespace and the impaired link, or returns why this machine cannot (not root, no
    /// <c>ip</c>/<c>tc</c>, or a kernel without network namespaces or the netem queueing discipline).
    /// </summary>
    public static (ImpairedLink? Link, string? Unavailable) TryCreate(string netem)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return (null, "network namespaces and tc netem need Linux and root");
        }

        var number = Interlocked.Increment(ref _created);
        var tag = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId % 100000}x{number}");
        var subnet = string.Create(CultureInfo.InvariantCulture, $"10.{200 + Environment.ProcessId % 50}.{number % 250}");
        var link = new ImpairedLink("conec" + tag, "cno" + tag, IPAddress.Parse(subnet + ".2"));
        var inside = "cni" + tag;
        string[][] setup =
        [
            ["ip", "netns", "add", link.Name],
            ["ip", "link", "add", link._outsideDevice, "type", "veth", "peer", "name", inside],
            ["ip", "link", "set", inside, "netns", link.Name],
            ["ip", "addr", "add", subnet + ".1/30", "dev", link._outsideDevice],
            ["ip", "link", "set", link._outsideDevice, "up"],
            ["ip", "netns", "exec", link.Name, "ip", "addr", "add", subnet + ".2/30", "dev", inside],
            ["ip", "netns", "exec", link.Name, "ip", "link", "set", inside, "up"],
            ["ip", "netns", "exec", link.Name, "ip", "link", "set", "lo", "up"],
            ["tc", "qdisc", "add", "dev", link._outsideDevice, "root", "netem", .. netem.Split(' ')],
            ["ip", "netns", "exec", link.Name, "tc", "qdisc", "add", "dev", inside, "root", "netem", .. netem.Split(' ')],
        ];
        foreach (var command in setup)
        {
            if (Run(command) is { } failure)
            {
                link.Dispose();
                return (null, $"`{string.Join(' ', command)}` failed here: {failure}");
            }
        }

        return (link, null);
    }

    /// <summary>Deletes the namespace, which deletes the veth pair with it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var failure = Run(["ip", "netns", "del", Name]);
        Assert.True(failure is null || failure.Contains("No such file", StringComparison.Ordinal), $"Deleting namespace {Name} failed: {failure}");
        Run(["ip", "link", "del", _outsideDevice]); // gone with the namespace unless setup stopped before moving its peer
    }

    /// <summary>Runs a command to its end; returns its error output when it fails, else null.</summary>
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
            return process.ExitCode == 0 ? null : error.Result.Trim();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return e.Message;
        }
    }
}
