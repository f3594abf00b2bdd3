using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Conec.Protocol;
using Conec.Streams;
using Conec.Transport;

namespace Conec.Coordinator.Broadcast;

/// <summary>
/// One join of a broadcast channel: the member's stream, read as the channel's input (each message tagged with the
/// member's authenticated id) and written as the member's output (every message of the channel, its own included).
/// </summary>
internal sealed class BroadcastMember
{
    /// <summary>How much a receiver's writer gathers into one transport write: one multiplexer frame's worth.</summary>
    private const int OutputBatchBytes = 64 * 1024;

    /// <summary>Frames smaller than this are copied together into one write; larger ones are written as they are.</summary>
    private const int GatherBelowBytes = 4 * 1024;

    private readonly TransportStream _stream;
    private readonly byte[] _idBytes;
    private readonly int _maxPayload;
    private int _inputOpen = 1;
    private int _outputOpen = 1;

    /// <summary>
    /// Frames a link's queue holds before this node's senders wait: as a Wait receiver's default capacity, so a link
    /// is no shorter a buffer than a member; its byte bound is the Wait bound (4 MiB).
    /// </summary>
    private const int LinkCapacity = 1024;

    /// <summary>The longest sender id (a DNS name) and its trailer: what a link frame may carry beyond a message.</summary>
    private const int MaxTag = 253 + BroadcastTag.TrailerSize;

    public BroadcastMember(string clientId, ulong streamId, TransportStream stream, SlowReceiverPolicy policy, int capacity, int maxMessageSize,
        Diagnostics.ConecMetrics metrics)
    {
        ClientId = clientId;
        StreamId = streamId;
        _stream = stream;
        _idBytes = Encoding.UTF8.GetBytes(clientId);
        _maxPayload = maxMessageSize - BroadcastTag.Overhead(_idBytes.Length);
        Queue = new MemberQueue(policy, capacity, metrics.BroadcastDrops);
    }

    private BroadcastMember(string nodeId, TransportStream stream, int maxMessageSize, Diagnostics.ConecMetrics metrics)
    {
        ClientId = nodeId;
        IsLink = true;
        _stream = stream;
        _idBytes = [];
        _maxPayload = maxMessageSize + MaxTag;
        Queue = new MemberQueue(SlowReceiverPolicy.Wait, LinkCapacity, metrics.BroadcastDrops);
    }

    /// <summary>
    /// The channel's stream to node <paramref name="nodeId"/>: it reads the messages that node's members sent, already
    /// stamped by that node, and writes the messages this node's members send (never those it received from a link).
    /// </summary>
    public static BroadcastMember ForLink(string nodeId, TransportStream stream, int maxMessageSize, Diagnostics.ConecMetrics metrics) =>
        new(nodeId, stream, maxMessageSize, metrics);

    /// <summary>The client's id, or for a link the node's.</summary>
    public string ClientId { get; }

    /// <summary>A link to another node's part of the channel rather than a client's membership.</summary>
    public bool IsLink { get; }

    /// <summary>The member's stream id, unique per client: how the client names this membership in a count request.</summary>
    public ulong StreamId { get; }

    public MemberQueue Queue { get; }

    /// <summary>Whether the member's writer is open, judged by the pump (which has published all it read).</summary>
    public bool InputOpen => Volatile.Read(ref _inputOpen) == 1;

    /// <summary>Whether the member still receives, judged by the pump or by a stop-sending already processed.</summary>
    public bool OutputOpen => Volatile.Read(ref _outputOpen) == 1;

    /// <summary>For counts: a writer counts until its finish or reset has reached the transport, even if not yet read.</summary>
    public bool CountsAsSender => InputOpen && !_stream.PeerSendingEnded;

    /// <summary>For counts: a reader counts until its stop-sending has reached the transport.</summary>
    public bool CountsAsReceiver => OutputOpen && !_stream.WritesClosed.IsCompleted;

    /// <summary>Runs the member's input and output until both are done, then releases the stream.</summary>
    public async Task RunAsync(BroadcastChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(InputAsync(channel, cancellationToken), OutputAsync(channel, cancellationToken), WatchStopAsync(channel));
        }
        finally
        {
            Queue.Discard();
            await _stream.DisposeAsync();
        }
    }

    /// <summary>Cuts off a receiver that fell behind under <see cref="SlowReceiverPolicy.Disconnect"/>.</summary>
    public void Disconnect(BroadcastChannel channel)
    {
        _stream.AbortWrite(ProtocolCodes.StreamTooSlow);
        CloseOutput(channel);
    }

    /// <summary>
    /// The coordinator is shutting down: the receiver must not read a clean end (that would claim every sender
    /// finished), so its output is reset with code 0x11 instead.
    /// </summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _outputOpen, 0) == 1)
        {
            Queue.Discard();
            _stream.AbortWrite(ProtocolCodes.StreamPeerLost);
        }
    }

    /// <summary>The channel ended while this member still writes: its writes now fail with <paramref name="code"/>.</summary>
    public void StopInput(long code) => _stream.AbortRead(code);

    private async Task InputAsync(BroadcastChannel channel, CancellationToken cancellationToken)
    {
        var input = _stream.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                while (IsLink ? TryTakeLinkFrame(ref buffer, out var frame) : TryTakeFrame(ref buffer, out frame))
                {
                    // A sender waits here for the links' room (Wait across nodes), so the fan-out never has to.
                    if (!IsLink)
                    {
                        await channel.WaitForLinksAsync(cancellationToken);
                    }

                    if (!await channel.PublishAsync(frame, cancellationToken))
                    {
                        frame.Release();
                        input.AdvanceTo(buffer.Start);
                        _stream.AbortRead(ProtocolCodes.StreamBroadcastEnded);
                        return;
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            // The writer reset, its connection died, or the frame was too large (already answered with stop-sending).
        }
        finally
        {
            Volatile.Write(ref _inputOpen, 0);
            channel.OnMemberChanged();
        }
    }

    /// <summary>Takes one whole frame off <paramref name="buffer"/> as a tagged shared frame.</summary>
    private bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out SharedFrame frame)
    {
        frame = null!;
        if (buffer.Length < FrameLimits.HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[FrameLimits.HeaderSize];
        buffer.Slice(0, FrameLimits.HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > _maxPayload)
        {
            _stream.AbortRead(ProtocolCodes.StreamMessageTooLarge);
            throw new ConecException(ConecError.MessageTooLarge, $"{ClientId} sent a broadcast message of {length} bytes; the limit is {_maxPayload}.");
        }

        if (buffer.Length < FrameLimits.HeaderSize + length)
        {
            return false;
        }

        var payload = buffer.Slice(FrameLimits.HeaderSize, length);
        frame = SharedFrame.Rent(FrameLimits.HeaderSize + (int)length + BroadcastTag.Overhead(_idBytes.Length));
        var span = frame.Span;
        payload.CopyTo(span[FrameLimits.HeaderSize..]);
        BroadcastTag.WriteTaggedFrame(span, span.Slice(FrameLimits.HeaderSize, (int)length), _idBytes);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>
    /// Takes one whole frame off a link as it is: the other node stamped its sender, which this node neither adds
    /// nor changes; a frame whose tag does not parse is the other node's violation and ends the link stream.
    /// </summary>
    private bool TryTakeLinkFrame(ref ReadOnlySequence<byte> buffer, out SharedFrame frame)
    {
        frame = null!;
        if (buffer.Length < FrameLimits.HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[FrameLimits.HeaderSize];
        buffer.Slice(0, FrameLimits.HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > _maxPayload || length < BroadcastTag.TrailerSize)
        {
            _stream.AbortRead(ProtocolCodes.StreamMessageTooLarge);
            throw new ConecException(ConecError.ProtocolViolation, $"The node '{ClientId}' sent a broadcast frame of {length} bytes; the limit is {_maxPayload}.");
        }

        if (buffer.Length < FrameLimits.HeaderSize + length)
        {
            return false;
        }

        var whole = buffer.Slice(0, FrameLimits.HeaderSize + length);
        frame = SharedFrame.Rent((int)whole.Length, remote: true);
        whole.CopyTo(frame.Span);
        var idLength = BinaryPrimitives.ReadUInt32BigEndian(frame.Span[^BroadcastTag.TrailerSize..]);
        if (idLength > 253 || idLength > length - BroadcastTag.TrailerSize)
        {
            frame.Release();
            _stream.AbortRead(ProtocolCodes.StreamMessageTooLarge);
            throw new ConecException(ConecError.ProtocolViolation, $"The node '{ClientId}' sent a broadcast frame whose sender tag does not parse.");
        }

        buffer = buffer.Slice(whole.End);
        return true;
    }

    private async Task OutputAsync(BroadcastChannel channel, CancellationToken cancellationToken)
    {
        var batch = new List<(SharedFrame Frame, long Lost)>();
        try
        {
            while (true)
            {
                var (frame, lost) = await Queue.DequeueAsync(cancellationToken);
                if (frame is null)
                {
                    if (OutputOpen)
                    {
                        _stream.CompleteWrites();
                    }

                    return;
                }

                // Whatever else is already queued leaves in the same write: one transport call per batch, not per message.
                batch.Add((frame, lost));
                var bytes = frame.Memory.Length;
                while (bytes < OutputBatchBytes && Queue.TryDequeue(out var next, out var nextLost))
                {
                    batch.Add((next, nextLost));
                    bytes += next.Memory.Length;
                }

                try
                {
                    await WriteBatchAsync(batch, cancellationToken);
                }
                finally
                {
                    foreach (var (queued, _) in batch)
                    {
                        queued.Release();
                    }

                    batch.Clear();
                }
            }
        }
        catch (Exception e) when (e is ConecException or OperationCanceledException)
        {
            CloseOutput(channel);
        }
    }

    /// <summary>
    /// Writes a batch in order: small frames (and loss notices) gathered into shared writes, large frames straight
    /// from their pooled buffers, since copying a large frame for each receiver costs more than a write of its own.
    /// </summary>
    private async ValueTask WriteBatchAsync(List<(SharedFrame Frame, long Lost)> batch, CancellationToken cancellationToken)
    {
        if (batch is [var (only, onlyLost)] && onlyLost == 0)
        {
            await _stream.WriteAsync(only.Memory, false, cancellationToken);
            return;
        }

        var gathered = ArrayPool<byte>.Shared.Rent(OutputBatchBytes + BroadcastTag.LossNoticeFrameSize);
        try
        {
            var offset = 0;
            foreach (var (frame, lost) in batch)
            {
                var size = frame.Memory.Length;
                var notice = lost > 0 ? BroadcastTag.LossNoticeFrameSize : 0;
                if (offset > 0 && (size >= GatherBelowBytes || offset + notice + size > gathered.Length))
                {
                    await _stream.WriteAsync(gathered.AsMemory(0, offset), false, cancellationToken);
                    offset = 0;
                }

                if (lost > 0)
                {
                    BroadcastTag.LossNoticeFrame(lost).CopyTo(gathered.AsSpan(offset));
                    offset += notice;
                }

                if (size >= GatherBelowBytes)
                {
                    if (offset > 0)
                    {
                        await _stream.WriteAsync(gathered.AsMemory(0, offset), false, cancellationToken);
                        offset = 0;
                    }

                    await _stream.WriteAsync(frame.Memory, false, cancellationToken);
                    continue;
                }

                frame.Memory.Span.CopyTo(gathered.AsSpan(offset));
                offset += size;
            }

            if (offset > 0)
            {
                await _stream.WriteAsync(gathered.AsMemory(0, offset), false, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    /// <summary>A receiver that stops reading leaves at once, even while nothing is being sent to it.</summary>
    private async Task WatchStopAsync(BroadcastChannel channel)
    {
        try
        {
            await _stream.WritesClosed;
        }
        catch (ConecException)
        {
            CloseOutput(channel);
        }
    }

    private void CloseOutput(BroadcastChannel channel)
    {
        if (Interlocked.Exchange(ref _outputOpen, 0) == 1)
        {
            Queue.Discard();
            channel.OnMemberChanged();
        }
    }
}
