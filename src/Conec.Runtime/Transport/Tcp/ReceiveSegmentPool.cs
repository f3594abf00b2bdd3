using System.Buffers;

namespace Conec.Transport.Tcp;

/// <summary>
/// The memory behind every multiplexed stream's receive pipe: pooled arrays, in a pool sized for what the streams'
/// flow-control windows let them hold at once.
/// </summary>
/// <remarks>
/// The shared array pool keeps 32 arrays of a size per core. A stream with a 1 MiB window can hold 256 of the pipe's
/// 4 KiB segments, so under load the shared pool ran dry and each received segment was a new array: measured, a
/// 10-receiver broadcast of 16 KiB messages allocated 15 KB of garbage per delivered message and collected gen 0
/// about 37 times a run. This pool (the in-box configurable array pool, with more arrays per size) keeps up to
/// <see cref="ArraysPerSize"/> free arrays of each size; it holds only what bursts have returned to it.
/// </remarks>
internal sealed class ReceiveSegmentPool : MemoryPool<byte>
{
    private const int LargestArray = 64 * 1024;
    private const int ArraysPerSize = 2048;

    public static readonly ReceiveSegmentPool Instance = new();

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
