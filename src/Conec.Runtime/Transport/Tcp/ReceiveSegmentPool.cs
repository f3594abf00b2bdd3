using System.Buffers;
using System.IO.Pipelines;

namespace Conec.Transport.Tcp;

/// <summary>
/// The memory behind every multiplexed stream's receive pipe, and the pipe's options: pooled arrays, in a pool sized
/// for what the streams' flow-control windows let them hold at once.
/// </summary>
/// <remarks>
/// The shared array pool keeps 32 arrays of a size per core, while one stream with a 1 MiB window can hold 256 of
/// the pipe's 4 KiB segments: under load it ran dry and every segment became garbage (docs/architecture.md). This
/// pool keeps up to <see cref="ArraysPerSize"/> free arrays of each size; it holds only what bursts returned to it.
/// </remarks>
internal sealed class ReceiveSegmentPool : MemoryPool<byte>
{
    private const int LargestArray = 64 * 1024;
    private const int ArraysPerSize = 2048;

    public static readonly ReceiveSegmentPool Instance = new();

    /// <summary>
    /// Every stream's receive pipe: it never pauses its writer, since the stream window already bounds what can be
    /// buffered and the reader loop must never wait on one slow stream; segments stay at the usual 4 KiB, so
    /// thousands of streams each holding a few small messages hold small segments.
    /// </summary>
    public static readonly PipeOptions PipeOptions = new(
        pool: Instance, pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: 4096,
        useSynchronizationContext: false);

    /// <summary>Flushes a pipe made with <see cref="PipeOptions"/>, which never waits since it never pauses.</summary>
    public static void FlushWithoutWaiting(PipeWriter writer)
    {
        // pauseWriterThreshold is 0, so FlushAsync completes synchronously; the stream window bounds the bytes.
        var flush = writer.FlushAsync(CancellationToken.None);
        if (!flush.IsCompleted)
        {
            throw new InvalidOperationException("A receive pipe applied back-pressure; its options must disable pausing.");
        }

        _ = flush.Result;
    }

    private readonly ArrayPool<byte> _arrays = ArrayPool<byte>.Create(LargestArray, ArraysPerSize);

    public override int MaxBufferSize => LargestArray;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
        new Lease(_arrays, _arrays.Rent(minBufferSize < 0 ? 4096 : minBufferSize));

    protected override void Dispose(bool disposing)
    {
        // The instance is shared for the life of the process: its arrays are simply left to the GC.
    }

    /// <summary>One rented array; disposing it (the pipe does, once the segment is consumed) returns it.</summary>
    private sealed class Lease(ArrayPool<byte> arrays, byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Lease));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned)
            {
                arrays.Return(returned);
            }
        }
    }
}
