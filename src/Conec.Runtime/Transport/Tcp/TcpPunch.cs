using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Conec.Transport.Tcp;

/// <summary>
/// TCP hole punching by simultaneous open: connects from the shared local port to every candidate address of the
/// peer at once, over and over, while the peer does the same towards this side. Either outcome of a simultaneous
/// open is a connection: a connect that completes, or the peer's SYN taken by the listener on the shared port
/// (then this side's own connect to the same pair fails with EADDRNOTAVAIL), which the listener hands in through
/// <c>accepted</c>. Every established socket is written to <c>established</c>; the caller picks.
/// </summary>
internal static class TcpPunch
{
    /// <summary>
    /// How long the first connect may wait before it is started afresh. A SYN the peer's NAT dropped because the
    /// peer's own SYN had not left yet is otherwise retransmitted only after a second; a fresh SYN a moment later
    /// passes. Each restart doubles the wait up to <see cref="MaxAttemptTimeout"/>, so a slow path or a busy machine,
    /// where the answer comes later than the first wait, still gets a connect that lasts.
    /// </summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(250);

    internal static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The pause after a refused connect (the peer's router answered for a mapping not yet made) before the next.</summary>
    internal static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Punches until <paramref name="cancellationToken"/> ends it (the caller's window or its success), then
    /// completes <paramref name="established"/>. A candidate stops being tried once a connection to it exists.
    /// </summary>
    public static async Task RunAsync(IPEndPoint local, IReadOnlyList<IPEndPoint> candidates, ChannelReader<Socket> accepted,
        ChannelWriter<Socket> established, CancellationToken cancellationToken)
    {
        var usable = candidates.Where(c => c.AddressFamily == local.AddressFamily && c.Port != 0).Distinct().ToArray();
        try
        {
            await Task.WhenAll([.. usable.Select(c => ConnectRepeatedlyAsync(local, c, established, cancellationToken)), TakeAcceptedAsync(accepted, established, cancellationToken)]);
        }
        finally
        {
            established.TryComplete();
        }
    }

    /// <summary>Binds a socket to the shared port, as the listener and the coordinator connection are bound.</summary>
    public static Socket BindShared(IPEndPoint local)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(local);
        return socket;
    }

    private static async Task ConnectRepeatedlyAsync(IPEndPoint local, IPEndPoint candidate, ChannelWriter<Socket> established, CancellationToken cancellationToken)
    {
        // Bounded by the caller's window: at most one attempt per RetryPause, each at most MaxAttemptTimeout long.
        var wait = AttemptTimeout;
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = BindShared(local);
            }
            catch (SocketException)
            {
                // The shared port cannot be bound now (the listener went away): nothing more to try from it.
                return;
            }

            var connecting = socket.ConnectAsync(candidate, cancellationToken).AsTask();
            var first = await Task.WhenAny(connecting, Task.Delay(wait, cancellationToken));

            // The kernel's word, not the continuation's: on a busy machine a connect that completed may not have been
            // reported yet, and giving it up would tear down the very connection the peer is answering on.
            if (first != connecting && !cancellationToken.IsCancellationRequested && socket.Poll(0, SelectMode.SelectWrite))
            {
                first = connecting;
            }

            if (first != connecting)
            {
                socket.Dispose();
                await Abandoned(connecting);
                wait = wait * 2 < MaxAttemptTimeout ? wait * 2 : MaxAttemptTimeout;
                continue;
            }

            try
            {
                await connecting;
                if (!established.TryWrite(socket))
                {
                    socket.Dispose();
                }

                return;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                // Refused or unreachable now; the peer's own SYN may open the way in a moment.
                socket.Dispose();
                try
                {
                    await Task.Delay(RetryPause, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Waits for a connect whose socket was disposed to report its end, which it does at once.</summary>
    private static async Task Abandoned(Task connecting)
    {
        try
        {
            await connecting;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The attempt was given up on purpose; its failure says nothing new.
        }
    }

    private static async Task TakeAcceptedAsync(ChannelReader<Socket> accepted, ChannelWriter<Socket> established, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var socket in accepted.ReadAllAsync(cancellationToken))
            {
                if (!established.TryWrite(socket))
                {
                    socket.Dispose();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window ended or the punch succeeded.
        }
    }
}
