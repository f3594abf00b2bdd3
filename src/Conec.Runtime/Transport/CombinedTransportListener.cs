using System.Net;
using System.Threading.Channels;

namespace Conec.Transport;

/// <summary>QUIC and TCP listeners on the same port number, accepted as one (<see cref="TransportMode.Auto"/>).</summary>
internal sealed class CombinedTransportListener : TransportListener
{
    private readonly TransportListener[] _listeners;
    private readonly ConnectionBudget? _budget;
    private readonly Channel<TransportConnection> _ready = Channel.CreateBounded<TransportConnection>(64);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _pumps;

    /// <summary>Pairs the two; a connection left unclaimed at disposal gives its place back to the budget both share.</summary>
    public CombinedTransportListener(TransportListener quic, TransportListener tcp, ConnectionBudget? budget)
    {
        _listeners = [quic, tcp];
        _budget = budget;
        LocalEndPoint = tcp.LocalEndPoint;
        _pumps = [.. _listeners.Select(PumpAsync)];
    }

    public override IPEndPoint LocalEndPoint { get; }

    public override async ValueTask<TransportConnection> AcceptConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException e) when (e.InnerException is ConecException failed)
        {
            throw new ConecException(failed.Error, failed.Message, failed);
        }
        catch (ChannelClosedException e)
        {
            throw new ConecException(ConecError.ConnectionAborted, "The listener was disposed.", e);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync();
        }

        await Task.WhenAll(_pumps);
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            await unclaimed.DisposeAsync();
            _budget?.Release();
        }

        _stopping.Dispose();
    }

    private async Task PumpAsync(TransportListener listener)
    {
        TransportConnection? connection = null;
        try
        {
            while (true)
            {
                connection = await listener.AcceptConnectionAsync(_stopping.Token);
                await _ready.Writer.WriteAsync(connection, _stopping.Token);
                connection = null;
            }
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && e is OperationCanceledException or ConecException)
        {
            // The listener is being disposed; DisposeAsync closes whatever was accepted but not claimed.
        }
        catch (ConecException e)
        {
            // One of the two stopped for good (it logged why): the pair reports it, as either alone would.
            _ready.Writer.TryComplete(e);
        }

        if (connection is not null)
        {
            await connection.DisposeAsync();
            _budget?.Release();
        }
    }
}
