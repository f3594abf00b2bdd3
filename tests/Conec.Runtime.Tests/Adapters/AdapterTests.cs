using System.Buffers.Binary;
using System.Text;
using Conec.Protocol;
using Conec.Tests.Coordination;
using Conec.Tests.Transport;

namespace Conec.Tests.Adapters;

/// <summary>The stream adapters: conec's <c>stream_block_nonblock</c>, the tag format, and every malformed input refused clearly.</summary>
public sealed class AdapterTests
{
    [Theory, TransportModes]
    public async Task StreamBlockNonblock(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client1 = await cluster.ConnectAsync("client1");
        var client2 = await cluster.ConnectAsync("client2");
        var ct = Timeouts.Token(TimeSpan.FromSeconds(60));
        var (send1, receive1) = await client1.NewProxiedStreamAsync("client2", ct);
        var (_, _, send2, receive2) = await Messages.NextAsync(client2.IncomingStreams, ct);
        var nonblocking = new NonblockingInStream(receive1, 16);

        // Phase 1: client2 does not read, so client1's sends stall; then client2 reads exactly what was accepted.
        var count = 0;
        Task pending;
        while (true)
        {
            pending = send1.SendAsync(Messages.Numbered(count, 16 * 1024), ct).AsTask();
            if (!await Timeouts.CompletesWithin(pending, TimeSpan.FromMilliseconds(300)))
            {
                break;
            }

            Assert.True(++count < 1 << 20);
        }

        for (var i = 0; i <= count; i++)
        {
            Assert.Equal(i, Messages.SequenceOf((await receive2.ReadAsync(ct))!));
        }

        await pending.WaitAsync(ct);

        // Phase 2: client1 reads through a 16-message ring, so client2's count+16 sends never wait.
        for (var i = 0; i < count + 16; i++)
        {
            await send2.SendAsync(Messages.Numbered(i, 16 * 1024), ct);
        }

        await send2.FinishAsync(ct);
        await nonblocking.Completion.WaitAsync(ct);
        var first = await nonblocking.ReceiveAsync(ct);
        Assert.Equal(count, first?.LostBefore);
        Assert.Equal(count, Messages.SequenceOf(first!.Value.Payload.Span));
        for (var i = 1; i < 16; i++)
        {
            var message = await nonblocking.ReceiveAsync(ct);
            Assert.Equal((count + i, 0L), (Messages.SequenceOf(message!.Value.Payload.Span), message.Value.LostBefore));
        }

        Assert.Null(await nonblocking.ReceiveAsync(ct));
    }

    [Theory, TransportModes]
    public async Task ANonblockingReaderSurfacesTheStreamsFailureInsteadOfHanging(TransportMode mode)
    {
        await using var cluster = await Cluster.StartAsync(mode);
        var client = await cluster.ConnectAsync("client1");
        var ct = Timeouts.Token();
        var (send, _) = await client.NewProxiedStreamAsync("client1", ct);
        var incoming = await Messages.NextAsync(client.IncomingStreams, ct);
        await using var nonblocking = new NonblockingInStream(incoming.Receive, 4);

        await send.SendAsync(new byte[] { 7 }, ct);
        Assert.Equal(new byte[] { 7 }, (await nonblocking.ReceiveAsync(ct))?.Payload.ToArray());

        // conec's reader hung its consumer here; this one throws the stream's failure.
        send.Abort(99);
        await nonblocking.Completion.WaitAsync(ct);
        var failure = await Assert.ThrowsAsync<ConecException>(async () => await nonblocking.ReceiveAsync(ct));
        Assert.Equal((ConecError.StreamAborted, 99L), (failure.Error, failure.ApplicationErrorCode));
    }

    [Fact]
    public void TheTagIsPayloadThenIdThenItsBigEndianLength()
    {
        var id = "client1"u8.ToArray();
        var payload = "hello"u8.ToArray();
        var frame = new byte[4 + payload.Length + id.Length + 4];
        BroadcastTag.WriteTaggedFrame(frame, payload, id);

        Assert.Equal((uint)(payload.Length + id.Length + 4), BinaryPrimitives.ReadUInt32BigEndian(frame));
        Assert.Equal([.. payload, .. id, 0, 0, 0, 7], frame[4..]);
        var parsed = BroadcastTag.Parse(frame.AsMemory(4), decodeSender: true, out var sender, out var lost);
        Assert.Equal(payload, parsed.ToArray());
        Assert.Equal(("client1", 0L), (sender, lost));

        // An empty payload is legal: the message is then only the tag.
        byte[] onlyTag = [.. id, 0, 0, 0, 7];
        var empty = BroadcastTag.Parse(onlyTag, decodeSender: true, out sender, out _);
        Assert.Equal((0, "client1"), (empty.Length, sender));
    }

    [Fact]
    public void ALossNoticeCarriesItsCount()
    {
        var notice = BroadcastTag.LossNoticeFrame(12345);
        BroadcastTag.Parse(notice.AsMemory(4), decodeSender: true, out var sender, out var lost);
        Assert.Equal((null, 12345L), (sender, lost));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0, 0, 7 })]
    [InlineData(new byte[] { 1, 2, 0, 0, 0, 9 })]
    [InlineData(new byte[] { 0xFF, 0xFE, 0, 0, 0, 2 })]
    [InlineData(new byte[] { 1, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void MalformedTagsAreClearErrors(byte[] message)
    {
        var error = Assert.Throws<ConecException>(() => BroadcastTag.Parse(message, decodeSender: true, out _, out _));
        Assert.Equal(ConecError.MalformedTag, error.Error);
    }

    [Fact]
    public async Task AdaptersPassLossesAndFailuresThrough()
    {
        var tagged = new TaggedBroadcastInStream(new ScriptedSource(
            Tag("a", [1]), BroadcastTag.LossNoticeFrame(3)[4..], Tag("b", [2]), [0, 0, 0, 1]));
        var ct = Timeouts.Token();
        Assert.Equal(("a", 0L), Brief(await tagged.ReceiveAsync(ct)));
        Assert.Equal(("b", 3L), Brief(await tagged.ReceiveAsync(ct)));
        Assert.Equal(ConecError.MalformedTag, (await Assert.ThrowsAsync<ConecException>(async () => await tagged.ReceiveAsync(ct))).Error);

        var typed = new TaggedDeserializer<int>(new TaggedBroadcastInStream(new ScriptedSource(Tag("a", [0xC1]))));
        Assert.Equal(ConecError.MalformedMessage, (await Assert.ThrowsAsync<ConecException>(async () => await typed.ReceiveAsync(ct))).Error);
    }

    private static (string, long) Brief(TaggedMessage? message) => (message!.Value.Sender, message.Value.LostBefore);

    private static byte[] Tag(string id, byte[] payload)
    {
        var idBytes = Encoding.UTF8.GetBytes(id);
        var frame = new byte[4 + payload.Length + idBytes.Length + 4];
        BroadcastTag.WriteTaggedFrame(frame, payload, idBytes);
        return frame[4..];
    }

    /// <summary>A source that yields fixed messages, then the end.</summary>
    private sealed class ScriptedSource(params byte[][] messages) : IMessageSource
    {
        private int _next;

        public ValueTask<ReceivedMessage?> ReceiveAsync(CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<ReceivedMessage?>(_next < messages.Length ? new ReceivedMessage(messages[_next++], 0) : null);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
