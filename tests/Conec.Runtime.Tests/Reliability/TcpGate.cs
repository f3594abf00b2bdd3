using System.Net;
using System.Net.Sockets;

namespace Conec.Tests.Reliability;

/// <summary>
/// A TCP forwarder a test can shut: while open it relays every connection to the target; <see cref="Close"/> resets
/// the relayed ones and resets new ones at once, until <see cref="Open"/>. It decides who can reach a coordinator when.
/// </summary>
internal sealed class TcpGate : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly List<Socket> _relayed = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _open = true;

    public TcpGate(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public void Open() => _open = true;

    public void Close()
    {
        _open = false;
        lock (_relayed)
        {
            foreach (var socket in _relayed)
            {
                Reset(socket);
            }

            _relayed.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Close();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptSocketAsync(_stop.Token);
                if (!_open)
                {
                    Reset(inbound);
                    continue;
                }

                var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await outbound.ConnectAsync(_target, _stop.Token);
                lock (_relayed)
                {
                    _relayed.Add(inbound);
                    _relayed.Add(outbound);
                }

                _ = PumpAsync(inbound, outbound);
                _ = PumpAsync(outbound, inbound);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed: nothing more to relay.
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read));
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side was reset (by Close or by its owner): the other learns from its own reset.
            Reset(to);
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: closing again below is harmless.
        }

        socket.Dispose();
    }
}
