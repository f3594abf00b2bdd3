using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Conec.Streams;

/// <summary>
/// Reads or builds one frame outside an <see cref="InStream"/>/<see cref="OutStream"/>: the hello, stream headers
/// and replies, which are read before the stream is handed to a user or a relay.
/// </summary>
internal static class SingleFrame
{
    public static byte[] Encode(byte[] payload)
    {
        var frame = new byte[FrameLimits.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(FrameLimits.HeaderSize));
        return frame;
    }

    /// <summary>
    /// Reads exactly one frame and leaves the reader just after it, or returns <see langword="null"/> if the stream
    /// ended cleanly before any byte of it.
    /// </summary>
    /// <exception cref="ConecException"><see cref="ConecError.MessageTooLarge"/> or <see cref="ConecError.TruncatedMessage"/>, or the stream's failure.</exception>
    public static async ValueTask<byte[]?> ReadAsync(PipeReader input, int maxSize, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= FrameLimits.HeaderSize)
            {
                var length = ReadLength(buffer);
                if (length > maxSize)
                {
                    input.AdvanceTo(buffer.Start);
                    throw new ConecException(ConecError.MessageTooLarge, $"A frame of {length} bytes arrived where at most {maxSize} are allowed.");
                }

                if (buffer.Length >= FrameLimits.HeaderSize + length)
                {
                    var frame = buffer.Slice(FrameLimits.HeaderSize, length);
                    var payload = frame.ToArray();
                    input.AdvanceTo(frame.End);
                    return payload;
                }
            }

            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return buffer.IsEmpty
                    ? null
                    : throw new ConecException(ConecError.TruncatedMessage, $"The stream ended inside a frame ({buffer.Length} bytes of it).");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[FrameLimits.HeaderSize];
        buffer.Slice(0, FrameLimits.HeaderSize).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }
}
