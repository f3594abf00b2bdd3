using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Conec.Transport.Tcp;

/// <summary>
/// The connection's one reader: parses frames from TLS and hands each to its stream, the stream table, the send
/// queue (credit, ping) or the connection (settings, close); a broken frame closes the connection.
/// </summary>
internal sealed class MuxReadLoop
{
    private readonly MuxConnection _connection;
    private readonly MuxStreamTable _streams;
    private readonly MuxSendQueue _send;
    private readonly SslStream _ssl;
    private long _lastReceived;
    private bool _settingsSeen;

    // Streams given data by the frames of the current read, flushed once when they are all parsed: a read of many
    // small frames for one stream then wakes its reader once, not once per frame.
    private List<MuxStream>? _unflushed;

    public MuxReadLoop(MuxConnection connection, MuxStreamTable streams, MuxSendQueue send, SslStream ssl, long now)
    {
        _connection = connection;
        _streams = streams;
        _send = send;
        _ssl = ssl;
        _lastReceived = now;
    }

    /// <summary>When bytes last arrived (<see cref="Environment.TickCount64"/>), for the idle timeout.</summary>
    public long LastReceived => Volatile.Read(ref _lastReceived);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Zero-byte reads wait for data without holding a buffer, so an idle connection costs no 64 KiB read buffer.
        var reader = PipeReader.Create(_ssl, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true));
        var remote = _connection.RemoteEndPoint;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                Volatile.Write(ref _lastReceived, Environment.TickCount64);
                var buffer = result.Buffer;
                try
                {
                    while (TryReadFrame(ref buffer, out var frame, out var body))
                    {
                        if (_streams.CloseError is null)
                        {
                            HandleFrame(frame, body);
                        }
                    }
                }
                finally
                {
                    FlushReceivedData();
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    _connection.Shutdown(new ConecException(ConecError.ConnectionLost, $"{remote} closed the TCP connection without a CLOSE frame."),
                        sendClose: false, 0, string.Empty, transportError: false);
                    return;
                }
            }
        }
        catch (MuxProtocolException e)
        {
            _connection.OnProtocolViolation(e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or AuthenticationException)
        {
            _connection.Shutdown(new ConecException(ConecError.ConnectionLost, $"Receiving from {remote} failed: {e.Message}", e),
                sendClose: false, 0, string.Empty, transportError: false);
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out MuxFrame frame, out ReadOnlySequence<byte> body)
    {
        frame = default;
        body = default;
        if (buffer.Length < MuxFrame.HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[MuxFrame.HeaderSize];
        buffer.Slice(0, MuxFrame.HeaderSize).CopyTo(header);
        frame = MuxFrame.ReadHeader(header);
        if (frame.Length > MuxFrame.MaxBody)
        {
            // Refused from the header alone: a claimed length is never buffered or allocated.
            throw new MuxProtocolException($"a {frame.Type} frame claims {frame.Length} bytes, the limit is {MuxFrame.MaxBody}");
        }

        if (buffer.Length < MuxFrame.HeaderSize + frame.Length)
        {
            return false;
        }

        body = buffer.Slice(MuxFrame.HeaderSize, frame.Length);
        buffer = buffer.Slice(MuxFrame.HeaderSize + frame.Length);
        return true;
    }

    private void HandleFrame(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        // A server that refuses the client's certificate sends CLOSE instead of SETTINGS.
        if (!_settingsSeen && frame.Type is not (MuxFrameType.Settings or MuxFrameType.Close))
        {
            throw new MuxProtocolException($"the first frame was {frame.Type}, expected Settings or Close");
        }

        switch (frame.Type)
        {
            case MuxFrameType.Data:
                ReceiveData(frame, body);
                return;
            case MuxFrameType.ResetStream:
                _streams.Find(frame)?.Reader.OnPeerReset(ReadInt64(frame, body));
                return;
            case MuxFrameType.StopSending:
                _streams.Find(frame)?.OnPeerStopSending(ReadInt64(frame, body));
                return;
            case MuxFrameType.MaxStreamData:
                _streams.Find(frame)?.OnSendCredit(ReadInt64(frame, body));
                return;
            case MuxFrameType.MaxData:
                _send.OnConnectionCredit(ReadInt64(RequireConnection(frame), body));
                return;
            case MuxFrameType.MaxStreams:
                _streams.OnStreamLimit(ReadUInt32(RequireConnection(frame), body));
                return;
            case MuxFrameType.Ping:
                OnPing(RequireConnection(frame), body);
                return;
            case MuxFrameType.Settings:
                OnSettings(RequireConnection(frame), body);
                return;
            case MuxFrameType.Close:
                OnClose(RequireConnection(frame), body);
                return;
            default:
                throw new MuxProtocolException($"unknown frame type {(byte)frame.Type}");
        }
    }

    private void ReceiveData(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        _streams.OnDataReceived(frame.Length);
        var stream = _streams.Find(frame);
        var fin = (frame.Flags & MuxFrame.Flag) != 0;
        var received = stream?.Reader.OnData(body, fin) ?? ReceivedData.Discarded;
        if (received == ReceivedData.Discarded)
        {
            // Bytes for a stream that is gone or no longer read still used connection credit: give it back.
            _streams.OnBytesConsumed(frame.Length);
        }
        else if (received == ReceivedData.Buffered && !fin && !stream!.Reader.FlushPending)
        {
            stream.Reader.FlushPending = true;
            (_unflushed ??= []).Add(stream);
        }
    }

    private void FlushReceivedData()
    {
        if (_unflushed is not { Count: > 0 } streams)
        {
            return;
        }

        foreach (var stream in streams)
        {
            stream.Reader.FlushPending = false;
            stream.Reader.FlushReceived();
        }

        streams.Clear();
    }

    private static MuxFrame RequireConnection(MuxFrame frame) =>
        frame.StreamId == 0 ? frame : throw new MuxProtocolException($"a {frame.Type} frame addressed stream {frame.StreamId}, expected 0");

    private static long ReadInt64(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        if (body.Length < 8)
        {
            throw new MuxProtocolException($"a {frame.Type} frame is {body.Length} bytes long, expected at least 8");
        }

        Span<byte> value = stackalloc byte[8];
        body.Slice(0, 8).CopyTo(value);
        return BinaryPrimitives.ReadInt64BigEndian(value);
    }

    private static uint ReadUInt32(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        if (body.Length < 4)
        {
            throw new MuxProtocolException($"a {frame.Type} frame is {body.Length} bytes long, expected at least 4");
        }

        Span<byte> value = stackalloc byte[4];
        body.Slice(0, 4).CopyTo(value);
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }

    private void OnSettings(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        if (_settingsSeen || body.Length < 16)
        {
            throw new MuxProtocolException(_settingsSeen ? "a second Settings frame" : "a short Settings frame");
        }

        Span<byte> value = stackalloc byte[16];
        body.Slice(0, 16).CopyTo(value);
        var streamWindow = BinaryPrimitives.ReadInt32BigEndian(value);
        var connectionWindow = BinaryPrimitives.ReadInt64BigEndian(value[4..]);
        var maxStreams = BinaryPrimitives.ReadInt32BigEndian(value[12..]);
        if (streamWindow < 0 || connectionWindow < 0 || maxStreams < 0)
        {
            throw new MuxProtocolException($"negative Settings values ({frame.Length} bytes)");
        }

        // The send limit is in place before openers wake: a stream opened at once must find the credit.
        _streams.SetPeerLimits(streamWindow, maxStreams);
        _send.SetConnectionLimit(connectionWindow);
        _settingsSeen = true;
        _connection.OnSettingsReceived();
        _streams.PulseStreamCredit();
    }

    private void OnPing(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        if ((frame.Flags & MuxFrame.Flag) == 0)
        {
            Span<byte> payload = stackalloc byte[8];
            body.Slice(0, Math.Min(body.Length, 8)).CopyTo(payload);
            _send.SendPing(MuxFrame.Flag, payload);
        }
    }

    private void OnClose(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        var code = ReadInt64(frame, body);
        var reason = Encoding.UTF8.GetString(body.Slice(8, Math.Min(body.Length - 8, MuxFrame.MaxReasonBytes)));
        var remote = _connection.RemoteEndPoint;
        var error = (frame.Flags & MuxFrame.RefusedFlag) != 0
            ? code == TransportCodes.CloseCoordinatorFull
                ? new ConecException(ConecError.CoordinatorFull, $"{remote} refused the connection: {reason}", code, null)
                : new ConecException(ConecError.HandshakeFailed, $"{remote} refused the TLS connection: {reason}", code, null)
            : (frame.Flags & MuxFrame.Flag) != 0
            ? new ConecException(ConecError.ProtocolViolation, $"{remote} closed the connection over a protocol error: {reason}", code, null)
            : (frame.Flags & MuxFrame.IdleFlag) != 0
                ? new ConecException(ConecError.ConnectionIdle, $"{remote} closed the idle connection (its idle timeout expired).", code, null)
                : new ConecException(ConecError.ConnectionClosed, $"{remote} closed the connection (code {code}): {reason}", code, null);
        _connection.Shutdown(error, sendClose: false, 0, string.Empty, transportError: false);
    }
}
