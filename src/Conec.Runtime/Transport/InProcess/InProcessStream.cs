using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.InProcess;

/// <summary>
/// One end of a stream whose two ends live in one process, with the transport contract of a network stream (finish,
/// reset, stop-sending with codes, a bounded window). The coordinator's own broadcast membership uses it, so the
/// fan-out treats the coordinator exactly as it treats a client's stream.
/// </summary>
internal sealed class InProcessStream : TransportStream
{
    private readonly InProcessDirection _send;
    private readonly InProcessDirection _receive;

    private InProcessStream(InProcessDirection send, InProcessDirection receive)
    {
        _send = send;
        _receive = receive;
    }

    /// <summary>Two connected ends: what one writes the other reads.</summary>
    public static (InProcessStream First, InProcessStream Second) CreatePair(int window)
    {
        var forward = new InProcessDirection(window);
        var backward = new InProcessDirection(window);
        return (new InProcessStream(forward, backward), new InProcessStream(backward, forward));
    }

    public override PipeReader Input => _receive.Reader;

    public override bool PeerSendingEnded => _receive.SendingEnded;

    public override Task WritesClosed => _send.WritesClosed;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken) =>
        _send.WriteAsync(new ReadOnlySequence<byte>(data), completeWrites, cancellationToken);

    // Every segment enters the pipe in one step: a message never waits half-written (see InProcessDirection).
    public override ValueTask WriteAsync(ReadOnlySequence<byte> data, bool completeWrites, CancellationToken cancellationToken) =>
        _send.WriteAsync(data, completeWrites, cancellationToken);

    public override void CompleteWrites() => _send.CompleteWrites();

    public override void AbortWrite(long errorCode) => _send.AbortWrite(errorCode);

    public override void AbortRead(long errorCode) => _receive.StopReading(errorCode);

    public override ValueTask DisposeAsync()
    {
        CompleteWrites();
        AbortRead(0);
        _receive.ReleaseReader();
        return ValueTask.CompletedTask;
    }
}
