using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Conec.Transport.Tcp;

/// <summary>The receive half: one loop parses frames from the TLS stream and routes them to streams.</summary>
internal sealed partial class MuxConnection
{
    private const long ProtocolViolationCode = 1;
    private long _lastReceived;
    private bool _settingsSeen;

    // Streams given data by the frames of the current read, flushed once when they are all parsed: a read of many
    // small frames for one stream then wakes its reader once, not once per frame. Reader loop only.
    private List<MuxStream>? _unflushed;

    private async Task ReadLoopAsync()
    {
        // Zero-byte reads wait for data without holding a buffer, so an idle connection costs no 64 KiB read buffer.
        var reader = PipeReader.Create(_ssl, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_lifetime.Token);
                Volatile.Write(ref _lastReceived, Environment.TickCount64);
                var buffer = result.Buffer;
                try
                {
                    while (TryReadFrame(ref buffer, out var frame, out var body))
                    {
                        if (_closeError is null)
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
                    Shutdown(new ConecException(ConecError.ConnectionLost, $"{_remoteEndPoint} closed the TCP connection without a CLOSE frame."),
                        sendClose: false, 0, string.Empty, transportError: false);
                    return;
                }
            }
        }
        catch (MuxProtocolException e)
        {
            Log.ProtocolViolation(_logger, _remoteEndPoint, e.Message);
            Shutdown(new ConecException(ConecError.ProtocolViolation, $"{_remoteEndPoint} broke the multiplexer protocol: {e.Message}"),
                sendClose: true, ProtocolViolationCode, e.Message, transportError: true);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or AuthenticationException)
        {
            Shutdown(new ConecException(ConecError.ConnectionLost, $"Receiving from {_remoteEndPoint} failed: {e.Message}", e),
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
                FindStream(frame)?.OnPeerReset(ReadInt64(frame, body));
                return;
            case MuxFrameType.StopSending:
                FindStream(frame)?.OnPeerStopSending(ReadInt64(frame, body));
                return;
            case MuxFrameType.MaxStreamData:
                FindStream(frame)?.OnSendCredit(ReadInt64(frame, body));
                return;
            case MuxFrameType.MaxData:
                OnConnectionCredit(ReadInt64(RequireConnection(frame), body));
                return;
            case MuxFrameType.MaxStreams:
                OnStreamLimit(ReadUInt32(RequireConnection(frame), body));
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
        lock (_sync)
        {
            _received += frame.Length;
            if (_received > _receiveLimit)
            {
                throw new MuxProtocolException($"the peer sent {_received} bytes, the connection window allowed {_receiveLimit}");
            }
        }

        var stream = FindStream(frame);
        var fin = (frame.Flags & MuxFrame.Flag) != 0;
        var received = stream?.OnData(body, fin) ?? ReceivedData.Discarded;
        if (received == ReceivedData.Discarded)
        {
            // Bytes for a stream that is gone or no longer read still used connection credit: give it back.
            OnBytesConsumed(frame.Length);
        }
        else if (received == ReceivedData.Buffered && !fin && !stream!.FlushPending)
        {
            stream.FlushPending = true;
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
            stream.FlushPending = false;
            stream.FlushReceived();
        }

        streams.Clear();
    }

    /// <summary>
    /// Finds the stream a frame addresses, creating a peer-opened stream on its first frame. Returns
    /// <see langword="null"/> for a stream that has already ended here (late frames are legal and dropped).
    /// </summary>
    private MuxStream? FindStream(MuxFrame frame)
    {
        var id = frame.StreamId;
        if (id == 0)
        {
            throw new MuxProtocolException($"a {frame.Type} frame addressed stream 0");
        }

        var peerOpened = (id & 1) == (_isClient ? 0u : 1u);
        MuxStream created;
        lock (_sync)
        {
            if (_streams.TryGetValue(id, out var existing))
            {
                return existing;
            }

            if (!peerOpened)
            {
                // Our ids are assigned before their first frame is written, so any id the peer can know is below this.
                return id < Volatile.Read(ref _nextLocalStreamId) ? null : throw new MuxProtocolException($"stream {id} was never opened here");
            }

            if (id < _nextPeerStreamId)
            {
                return null;
            }

            if (id != _nextPeerStreamId)
            {
                throw new MuxProtocolException($"stream {id} opened out of order, expected {_nextPeerStreamId}");
            }

            if (_peerOpened >= _inboundLimit)
            {
                throw new MuxProtocolException($"the peer opened more than the {_inboundLimit} streams it was allowed");
            }

            _peerOpened++;
            _nextPeerStreamId += 2;
            created = new MuxStream(this, locallyInitiated: false, id, _peerStreamWindow, _settings.StreamReceiveWindow);
            _streams[id] = created;
        }

        _accepted.Writer.TryWrite(created);
        return created;
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

        lock (_sync)
        {
            _peerStreamWindow = streamWindow;
            _peerMaxStreams = maxStreams;
        }

        lock (_sendLock)
        {
            _sendLimit = connectionWindow;
        }

        _settingsSeen = true;
        _settingsReceived.TrySetResult();
        _streamCredit.Pulse();
    }

    private void OnConnectionCredit(long limit)
    {
        lock (_sendLock)
        {
            if (limit <= _sendLimit)
            {
                return;
            }

            _sendLimit = limit;
        }

        _connectionCredit.Pulse();
    }

    private void OnStreamLimit(long limit)
    {
        lock (_sync)
        {
            if (limit <= _peerMaxStreams)
            {
                return;
            }

            _peerMaxStreams = limit;
        }

        _streamCredit.Pulse();
    }

    private void OnPing(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        if ((frame.Flags & MuxFrame.Flag) == 0)
        {
            Span<byte> payload = stackalloc byte[8];
            body.Slice(0, Math.Min(body.Length, 8)).CopyTo(payload);
            SendPing(MuxFrame.Flag, payload);
        }
    }

    private void OnClose(MuxFrame frame, ReadOnlySequence<byte> body)
    {
        var code = ReadInt64(frame, body);
        var reason = Encoding.UTF8.GetString(body.Slice(8, Math.Min(body.Length - 8, MuxFrame.MaxReasonBytes)));
        var error = (frame.Flags & MuxFrame.RefusedFlag) != 0
            ? new ConecException(ConecError.HandshakeFailed, $"{_remoteEndPoint} refused the TLS connection: {reason}", code, null)
            : (frame.Flags & MuxFrame.Flag) != 0
            ? new ConecException(ConecError.ProtocolViolation, $"{_remoteEndPoint} closed the connection over a protocol error: {reason}", code, null)
            : (frame.Flags & MuxFrame.IdleFlag) != 0
                ? new ConecException(ConecError.ConnectionIdle, $"{_remoteEndPoint} closed the idle connection (its idle timeout expired).", code, null)
                : new ConecException(ConecError.ConnectionClosed, $"{_remoteEndPoint} closed the connection (code {code}): {reason}", code, null);
        Shutdown(error, sendClose: false, 0, string.Empty, transportError: false);
    }

    /// <summary>Returns connection credit for bytes the application consumed or that were discarded.</summary>
    internal void OnBytesConsumed(long count)
    {
        long? update = null;
        lock (_sync)
        {
            _consumedSinceUpdate += count;

            // Granting credit in half-window steps keeps the sender busy without a frame per read.
            if (_closeError is null && _consumedSinceUpdate >= _settings.ConnectionReceiveWindow / 2)
            {
                _receiveLimit += _consumedSinceUpdate;
                _consumedSinceUpdate = 0;
                update = _receiveLimit;
            }
        }

        if (update is { } limit)
        {
            SendMaxData(limit);
        }
    }

    internal Task CreditChanged => _connectionCredit.Current;

    /// <summary>Why the connection ended, or null while it is open. Written under <c>_sync</c>, read without it.</summary>
    internal ConecException? CloseError => Volatile.Read(ref _closeError);

    /// <summary>Forgets a stream both of whose directions have ended, and lets the peer open another in its place.</summary>
    internal void Release(MuxStream stream)
    {
        long? newLimit = null;
        lock (_sync)
        {
            if (!_streams.Remove(stream.Id) || stream.LocallyInitiated || _closeError is not null)
            {
                return;
            }

            _inboundLimit++;
            newLimit = _inboundLimit;
        }

        SendMaxStreams(newLimit.Value);
    }
}
