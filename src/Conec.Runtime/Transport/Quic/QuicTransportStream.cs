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
    private Task? _writesClosed;

    public QuicTransportStream(QuicStream stream)
    {
        _stream = stream;
        _input = PipeReader.Create(new QuicReadStream(stream), new StreamPipeReaderOptions(leaveOpen: true));
    }

    public override PipeReader Input => _input;

    public override Task WritesClosed => _writesClosed ??= MapWritesClosedAsync();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.WriteAsync(data, completeWrites, cancellationToken);
        }
        catch (QuicException e)
        {
            throw QuicErrors.Map(e, writing: true);
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            throw QuicErrors.Map(e);
        }
        catch (InvalidOperationException e) when (_stream.WritesClosed.IsCompleted)
        {
            throw new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.", e);
        }
    }

    public override void CompleteWrites() => _stream.CompleteWrites();

    public override void AbortWrite(long errorCode) => _stream.Abort(QuicAbortDirection.Write, errorCode);

    // msquic completes ReadsClosed on a peer reset at once and on a FIN once the reader has consumed everything; the
    // coordinator reads broadcast inputs continuously, so the difference lasts only until its reader catches up.
    public override bool PeerSendingEnded => _stream.ReadsClosed.IsCompleted;

    public override void AbortRead(long errorCode) => _stream.Abort(QuicAbortDirection.Read, errorCode);

    public override async ValueTask DisposeAsync()
    {
        if (!_stream.WritesClosed.IsCompleted)
        {
            _stream.CompleteWrites();
        }

        if (!_stream.ReadsClosed.IsCompleted)
        {
            _stream.Abort(QuicAbortDirection.Read, 0);
        }

        await _input.CompleteAsync();
        await _stream.DisposeAsync();
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
