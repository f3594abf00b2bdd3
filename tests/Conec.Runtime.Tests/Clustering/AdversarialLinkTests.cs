using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;
using Conec.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conec.Tests.Clustering;

/// <summary>Only a node of the cluster may open a link: anything else that tries is refused and logged, and the cluster carries on.</summary>
public sealed class AdversarialLinkTests
{
    [Theory, TransportModes]
    public async Task AClientCertificateOrAnotherClustersNodeIsRefusedALink(TransportMode mode)
    {
        var logs = new CapturingLoggerFactory();
        await using var nodes = await NodeSet.StartAsync(mode, 2, c => c.LoggerFactory = logs);
        var linkPort = nodes[0].Cluster!.LinkEndPoint.Port;
        var strangers = ConecCertificates.CreateAuthority("other-nodes");

        // A client's self-signed certificate, and a node certificate of another CA (even for a real node's name).
        foreach (var certificate in new[] { TestCertificates.Client, ConecCertificates.CreateSigned("node1", strangers) })
        {
            var refused = await Assert.ThrowsAsync<ConecException>(() => LinkHelloAsync(mode, linkPort, certificate, "node1"));
            Assert.True(refused.Error is ConecError.HandshakeFailed or ConecError.ConnectionClosed or ConecError.ConnectionLost,
                $"Unexpected failure {refused.Error}: {refused.Message}");
        }

        Assert.Equal(2, await CountLogsAsync(logs, "not a node of this cluster", 2));

        // A real node certificate that names itself another node in its hello is refused with the reason.
        var impostor = await Assert.ThrowsAsync<ConecException>(() => LinkHelloAsync(mode, linkPort, NodeSet.NodeCertificate("node1"), "node7"));
        Assert.Equal(ConecError.IdentityRejected, impostor.Error);
        Assert.Contains("not valid for the node id 'node7'", impostor.Message, StringComparison.Ordinal);
        Assert.Contains("not valid for the node id 'node7'", await logs.WaitForAsync(2111), StringComparison.Ordinal);

        // The cluster itself is unharmed.
        var alice = await nodes.ConnectAsync("alice", 1);
        var bob = await nodes.ConnectAsync("bob", 0);
        var ct = Timeouts.Token();
        var pair = await alice.NewProxiedStreamAsync("bob", ct);
        var echo = Messages.EchoAsync(await Messages.NextAsync(bob.IncomingStreams, ct), ct);
        await Messages.AssertEchoAsync(pair, [1], ct);
        await pair.Send.FinishAsync(ct);
        await echo;
    }

    /// <summary>Dials node0's links as <paramref name="nodeId"/> with <paramref name="certificate"/>, trusting the real node CA, and says the link hello.</summary>
    private static async Task LinkHelloAsync(TransportMode mode, int port, X509Certificate2 certificate, string nodeId)
    {
        var ct = Timeouts.Token();
        var tls = new TransportClientTls("node0", certificate) { TrustedAuthorities = [NodeSet.Authority], TrustSystemRoots = false };
        await using var connection = await TransportFactory.ConnectAsync(mode, new IPEndPoint(IPAddress.Loopback, port), null, tls,
            new TransportSettings(), NullLogger.Instance, ct);
        await using var control = await connection.OpenStreamAsync(ct);
        await control.WriteAsync(SingleFrame.Encode(LinkMessage.EncodeHello(nodeId, ProtocolConstants.Version)), false, ct);
        var reply = await SingleFrame.ReadAsync(control.Input, ProtocolConstants.MaxControlMessageSize, ct)
            ?? throw new ConecException(ConecError.ConnectionClosed, "The node ended the control stream without answering.");
        var answer = ControlMessage.Decode(new ReadOnlySequence<byte>(reply));
        if (answer.Tag == ControlTag.HelloRefused)
        {
            throw new ConecException((ConecError)answer.Number, answer.Text!);
        }
    }

    /// <summary>Waits (bounded) until at least <paramref name="expected"/> log entries contain <paramref name="text"/>.</summary>
    private static async Task<int> CountLogsAsync(CapturingLoggerFactory logs, string text, int expected)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var count = logs.Entries.Count(e => e.Message.Contains(text, StringComparison.Ordinal));
            if (count >= expected || clock.Elapsed > Timeouts.Operation)
            {
                return count;
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
