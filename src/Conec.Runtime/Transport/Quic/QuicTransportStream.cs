using System.IO.Pipelines;
using System.Net.Quic;
using System.Runtime.Versioning;

namespace Conec.Transport.Quic;

/// <summary>A QUIC stream behind the transport contract; QUIC provides every semantic natively.</summary>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal sealed class QuicTransportStream : TransportStream
{
    private readonly QuicStream _stream;
    private readonly PipeReader _input;
    private readonly QuicStreamWriter _writer;
    private Task? _writesClosed;

    public QuicTransportStream(QuicStream stream)
    {
        _stream = stream;
        _writer = new QuicStreamWriter(stream);
        _input = PipeReader.Create(new QuicReadStream(stream), new StreamPipeReaderOptions(leaveOpen: true));
    }

    public override PipeReader Input => _input;

    public override Task WritesClosed => _writesClosed ??= MapWritesClosedAsync();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken) =>
        _writer.WriteAsync(data, completeWrites, cancellationToken);

    public override void CompleteWrites() => _writer.CompleteWrites();

    public override void AbortWrite(long errorCode) => _writer.AbortWrite(errorCode);

    // msquic completes ReadsClosed on a peer reset at once and on a FIN once the reader has consumed everything; the
    // coordinator reads broadcast inputs continuously, so the difference lasts only until its reader catches up.
    public override bool PeerSendingEnded => _stream.ReadsClosed.IsCompleted;

    public override void AbortRead(long errorCode) => _stream.Abort(QuicAbortDirection.Read, errorCode);

    public override async ValueTask DisposeAsync()
    {
        if (!_stream.ReadsClosed.IsCompleted)
        {
            _stream.Abort(QuicAbortDirection.Read, 0);
        }

        await _input.CompleteAsync();

        // The writer finishes the send side after what it still holds, then disposes the QUIC stream.
        _writer.FinishAndRelease();
    }

    private async Task MapWritesClosedAsync()
    {
        try
        {
            await _stream.WritesClosed;
        }
        catch (QuicException e)
        {
            throw QuicErrors.Map(e, writing: true);
        }
    }
}
