namespace Conec.Tests.Coordination;

/// <summary>Small helpers for exchanging checked messages in the coordination tests.</summary>
internal static class Messages
{
    public static byte[] Numbered(int sequence, int size)
    {
        var message = new byte[Math.Max(size, 4)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(message, sequence);
        for (var i = 4; i < message.Length; i++)
        {
            message[i] = (byte)(sequence + i);
        }

        return message;
    }

    public static int SequenceOf(ReadOnlySpan<byte> message)
    {
        var sequence = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(message);
        Assert.True(message.SequenceEqual(Numbered(sequence, message.Length)), $"Message {sequence} arrived corrupted.");
        return sequence;
    }

    /// <summary>Sends one message and expects it back unchanged (the peer echoes).</summary>
    public static async Task AssertEchoAsync(StreamPair pair, byte[] message, CancellationToken cancellationToken)
    {
        await pair.Send.SendAsync(message, cancellationToken);
        var echoed = await pair.Receive.ReadAsync(cancellationToken);
        Assert.Equal(message, echoed);
    }

    /// <summary>Echoes every message of an incoming stream back until its end, then finishes.</summary>
    public static async Task EchoAsync(IncomingStream stream, CancellationToken cancellationToken)
    {
        await foreach (var message in stream.Receive.WithCancellation(cancellationToken))
        {
            await stream.Send.SendAsync(message, cancellationToken);
        }

        await stream.Send.FinishAsync(cancellationToken);
    }

    public static async Task<IncomingStream> NextAsync(IAsyncEnumerable<IncomingStream> streams, CancellationToken cancellationToken)
    {
        await using var enumerator = streams.GetAsyncEnumerator(cancellationToken);
        Assert.True(await enumerator.MoveNextAsync(), "The incoming streams ended.");
        return enumerator.Current;
    }
}
