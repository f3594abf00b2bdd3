using Conec.Transport;

namespace Conec;

/// <summary>One direct channel of a client, from the moment it is asked for until its connection ends.</summary>
internal sealed class DirectChannel(string peer)
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _goodbye = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TransportConnection? _connection;

    public string Peer { get; } = peer;

    /// <summary>Completes when the channel is up; faults if setting it up failed.</summary>
    public Task Ready => _ready.Task;

    public TransportConnection Connection => _connection ?? throw new InvalidOperationException("The channel is not connected yet.");

    /// <summary>Connecting, or connected and not closed: a second channel to the same peer would be a duplicate.</summary>
    public bool IsAlive => _connection is null ? !_ready.Task.IsCompleted : !_connection.Closed.IsCompleted;

    /// <summary>The channel's control stream, held for the channel's life (a collected QUIC stream would be aborted).</summary>
    public TransportStream? Control { get; private set; }

    public void Connected(TransportConnection connection, TransportStream control)
    {
        _connection = connection;
        Control = control;
        _ready.TrySetResult();
    }

    public void Failed(Exception failure) => _ready.TrySetException(failure);

    /// <summary>Completes when the peer has finished its control stream (its goodbye), or the connection ended.</summary>
    public Task PeerGoodbye => _goodbye.Task;

    public void OnPeerGoodbye() => _goodbye.TrySetResult();
}
