using System.Buffers;

namespace Conec.Transport.Tcp;

/// <summary>
/// The socket stream under the multiplexer's <see cref="System.Net.Security.SslStream"/>. <c>SslStream</c> writes
/// every TLS record (at most 16 KiB of data) to its inner stream on its own, which is one <c>send</c> system call,
/// one TCP segment and one wake-up of the receiver per record. While the writer loop sends a batch, this stream
/// gathers the records and hands them to the socket together when the batch ends (or when its buffer, sized for the
/// batch up to <see cref="Capacity"/>, is full). Outside a batch it writes straight through, so TLS writes the
/// multiplexer did not start (during the handshake, or on close) are never held back.
/// <para>
/// Reads are the mirror image: <c>SslStream</c> asks its inner stream for little more than the record it is
/// decrypting, which made about two <c>recv</c> calls per record. A small read is served from one socket read of a
/// chunk of <see cref="MinReadChunk"/> to <see cref="MaxReadChunk"/> bytes, held in a buffer rented for as long as it
/// holds bytes; a zero-byte read with nothing held waits on the socket itself, so an idle connection holds no buffer
/// either way. The chunk grows while reads fill it and shrinks when they leave most of it empty, so a connection
/// rents a large one only while the socket has that much waiting.
/// </para>
/// </summary>
/// <remarks>
/// Writes inside a batch keep their order, whoever makes them: a record <c>SslStream</c> writes on its own while a
/// batch is open joins the buffer behind the batch's records rather than overtaking them.
/// </remarks>
internal sealed class RecordCoalescingStream(Stream inner) : Stream
{
    /// <summary>
    /// The most gathered before it is sent anyway: 31 full TLS records (16,406 bytes each on the wire). Larger sends
    /// mean fewer system calls up to this size, and no gain beyond it (docs/architecture.md, "TLS records written together").
    /// </summary>
    public const int Capacity = 512 * 1024;

    /// <summary>The least one socket read takes for small reads: just under four full TLS records.</summary>
    public const int MinReadChunk = 64 * 1024;

    /// <summary>The most one socket read takes for small reads, once reads keep filling smaller chunks.</summary>
    public const int MaxReadChunk = 512 * 1024;

    // Every write to the socket, gathered or straight through, happens under this lock, so nothing overtakes what
    // is gathered. Uncontended, as it nearly always is (SslStream writes one record at a time), it costs no wait.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[]? _buffer;
    private int _length;
    private bool _batching;
    private int _readChunk = MinReadChunk;

    // Read state: SslStream never reads concurrently with itself, so no lock.
    private byte[]? _readBuffer;
    private int _readOffset;
    private int _readLength;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Starts gathering the TLS records of a batch of <paramref name="plaintextBytes"/>. The buffer is rented only
    /// now, sized for the batch up to <see cref="Capacity"/>: an idle connection holds none, a quiet one little.
    /// </summary>
    public async ValueTask BeginBatchAsync(int plaintextBytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        _batching = true;

        // Each TLS 1.3 record adds 22 bytes to at most 16 KiB of data: a 512th more, and a little, leaves room.
        _buffer ??= ArrayPool<byte>.Shared.Rent((int)Math.Min(Capacity, plaintextBytes + (plaintextBytes / 512) + 512L));
        _writeLock.Release();
    }

    /// <summary>Sends what the batch gathered, returns the buffer, and goes back to writing straight through.</summary>
    public async ValueTask EndBatchAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await SendGatheredAsync(cancellationToken);
            _batching = false;
            ReturnBuffer();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_batching && _buffer is { } gathered)
            {
                if (_length + buffer.Length > gathered.Length)
                {
                    await SendGatheredAsync(cancellationToken);
                }

                if (buffer.Length <= gathered.Length)
                {
                    buffer.Span.CopyTo(gathered.AsSpan(_length));
                    _length += buffer.Length;
                    return;
                }
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await SendGatheredAsync(cancellationToken);
            await inner.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readBuffer is not null)
        {
            return TakeHeld(buffer.Span);
        }

        var size = _readChunk;
        if (buffer.Length == 0 || buffer.Length >= size)
        {
            // Waiting for data without a buffer, or a read big enough to take a whole chunk itself.
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        var chunk = ArrayPool<byte>.Shared.Rent(size);
        int read;
        try
        {
            read = await inner.ReadAsync(chunk.AsMemory(0, size), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(chunk);
            throw;
        }

        if (read == 0)
        {
            ArrayPool<byte>.Shared.Return(chunk);
            return 0;
        }

        // A full chunk means the socket had more waiting than it took; a quarter or less, that a smaller one will do.
        _readChunk = read == size ? Math.Min(size * 2, MaxReadChunk) : read <= size / 4 ? Math.Max(size / 2, MinReadChunk) : size;
        (_readBuffer, _readOffset, _readLength) = (chunk, 0, read);
        return TakeHeld(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();

            // A write still in flight fails on the disposed socket; the buffer is returned once nobody can be using it.
            if (_writeLock.Wait(0))
            {
                ReturnBuffer();
                _writeLock.Release();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Copies what is held into <paramref name="destination"/>; a drained buffer goes back to the pool.</summary>
    private int TakeHeld(Span<byte> destination)
    {
        var held = _readBuffer!;
        var count = Math.Min(destination.Length, _readLength - _readOffset);
        held.AsSpan(_readOffset, count).CopyTo(destination);
        _readOffset += count;
        if (_readOffset == _readLength)
        {
            _readBuffer = null;
            ArrayPool<byte>.Shared.Return(held);
        }

        return count;
    }

    private async ValueTask SendGatheredAsync(CancellationToken cancellationToken)
    {
        if (_buffer is { } gathered && _length > 0)
        {
            var length = _length;
            _length = 0;
            await inner.WriteAsync(gathered.AsMemory(0, length), cancellationToken);
        }
    }

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            _length = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
