using System.Buffers;

namespace Conec.Benchmarks;

/// <summary>
/// An echo over a raw Conec stream, no generated code: the server sends every message back as it came, and the
/// caller times sends each followed by the read of the echo. Used by the latency and load rows.
/// </summary>
internal static class RawEcho
{
    /// <summary>Sends back every message of <paramref name="receive"/> on <paramref name="send"/>, then finishes at the stream's end.</summary>
    public static async Task ServeAsync(OutStream send, InStream receive, CancellationToken cancellationToken = default)
    {
        while (await receive.ReadSequenceAsync(cancellationToken) is { } message)
        {
            // A message is one segment unless it straddled two pipe buffers; SendAsync copies it before returning.
            await send.SendAsync(message.IsSingleSegment ? message.First : message.ToArray(), cancellationToken);
        }

        await send.FinishAsync(cancellationToken);
    }

    /// <summary>One round trip on <paramref name="pair"/>: the length of the echo of <paramref name="payload"/>.</summary>
    public static async ValueTask<int> CallAsync(StreamPair pair, byte[] payload)
    {
        await pair.Send.SendAsync(payload);
        var echoed = await pair.Receive.ReadSequenceAsync() ?? throw new EndOfStreamException("The echo ended early.");
        return (int)echoed.Length;
    }

    /// <summary>
    /// p50 and p99 in microseconds of <paramref name="calls"/> 64-byte round trips, one at a time, over a stream
    /// <paramref name="open"/> makes for this run; the stream is then finished and read to the echo's end.
    /// </summary>
    public static async Task<double[]> RunAsync(Func<ValueTask<StreamPair>> open, int calls)
    {
        var pair = await open();
        try
        {
            var figures = await EchoRuns.OneAtATimeAsync(payload => CallAsync(pair, payload), calls);
            await pair.Send.FinishAsync();
            if (await pair.Receive.ReadSequenceAsync() is not null)
            {
                throw new InvalidOperationException("The echo sent more than it was sent.");
            }

            return figures;
        }
        finally
        {
            await pair.Send.DisposeAsync();
            await pair.Receive.DisposeAsync();
        }
    }
}
