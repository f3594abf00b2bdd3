using System.Buffers;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>Reads a transport stream to its end, for tests.</summary>
internal static class StreamIo
{
    public static async Task<byte[]> ReadToEndAsync(TransportStream stream, CancellationToken cancellationToken)
    {
        var (data, error) = await ReadUntilEndOrErrorAsync(stream, cancellationToken);
        return error is null ? data : throw error;
    }

    /// <summary>Reads until the end or an error, keeping what arrived before the error.</summary>
    public static async Task<(byte[] Data, ConecException? Error)> ReadUntilEndOrErrorAsync(TransportStream stream, CancellationToken cancellationToken)
    {
        var collected = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var result = await stream.Input.ReadAsync(cancellationToken);
                foreach (var segment in result.Buffer)
                {
                    collected.Write(segment.Span);
                }

                stream.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return (collected.WrittenSpan.ToArray(), null);
                }
            }
        }
        catch (ConecException e)
        {
            return (collected.WrittenSpan.ToArray(), e);
        }
    }

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 31) + seed);
        }

        return data;
    }
}
