using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Conec.Tests.Transport;

/// <summary>
/// A TCP relay on loopback whose one direction runs at a fixed rate through small buffers: a slow link whose
/// bottleneck is in front of the sender, as on a real network, where loopback has none.
/// </summary>
internal sealed class ThrottledTcpLink : IAsyncDisposable
{
    private const int Chunk = 8 * 1024;
    private const int LinkBuffer = 32 * 1024;

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly long _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;

    private ThrottledTcpLink(IPEndPoint target, long bytesPerSecond)
    {
        _target = target;
        _bytesPerSecond = bytesPerSecond;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = LinkBuffer };
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        _accepting = AcceptAsync();
    }

    /// <summary>Where to connect: bytes towards <c>target</c> are throttled, bytes back are not.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public static ThrottledTcpLink Start(IPEndPoint target, long bytesPerSecond) => new(target, bytesPerSecond);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var pumps = new List<Task>();
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptAsync(_stop.Token);
                var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = LinkBuffer, NoDelay = true };
                inbound.NoDelay = true;
                lock (_sockets)
                {
                    _sockets.Add(inbound);
                    _sockets.Add(outbound);
                }

                await outbound.ConnectAsync(_target, _stop.Token);
                pumps.Add(PumpAsync(inbound, outbound, _bytesPerSecond));
                pumps.Add(PumpAsync(outbound, inbound, bytesPerSecond: 0));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            await Task.WhenAll(pumps).ContinueWith(_ => { }, TaskScheduler.Default); // the pumps end as their sockets close
        }
    }

    /// <summary>Copies until either side closes; with a rate, each chunk leaves no earlier than the rate allows.</summary>
    private async Task PumpAsync(Socket from, Socket to, long bytesPerSecond)
    {
        var buffer = new byte[Chunk];
        var clock = Stopwatch.StartNew();
        var sent = 0L;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (bytesPerSecond > 0)
                {
                    // Pacing a simulated link, not waiting for an event: the link's rate is the point.
                    var due = TimeSpan.FromSeconds((double)(sent + read) / bytesPerSecond) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, _stop.Token);
                    }
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                sent += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            to.Dispose(); // one side failed or the link stopped: the other side sees the connection end
        }
    }
}
