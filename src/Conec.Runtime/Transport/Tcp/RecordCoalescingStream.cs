using System.Buffers;

namespace Conec.Transport.Tcp;

/// <summary>
/// The socket stream under the multiplexer's <see cref="System.Net.Security.SslStream"/>. <c>SslStream</c> writes
/// every TLS record (at most 16 KiB of data) to its inner stream on its own, which is one <c>send</c> system call,
/// one TCP segment and one wake-up of the receiver per record. While the writer loop sends a batch, this stream
/// gathers the records and hands them to the socket together when the batch ends (or when
/// <see cref="Capacity"/> is reached). Outside a batch it writes straight through, and reads always do, so TLS
/// writes the multiplexer did not start (during the handshake, or on close) are never held back.
/// </summary>
/// <remarks>
/// Writes inside a batch keep their order, whoever makes them: a record <c>SslStream</c> writes on its own while a
/// batch is open joins the buffer behind the batch's records rather than overtaking them.
/// </remarks>
internal sealed class RecordCoalescingStream(Stream inner) : Stream
{
    /// <summary>What is gathered before it is sent anyway: seven full TLS records (16,406 bytes each on the wire).</summary>
    public const int Capacity = 128 * 1024;

    // Every write to the socket, gathered or straight through, happens under this lock, so nothing overtakes what
    // is gathered. Uncontended, as it nearly always is (SslStream writes one record at a time), it costs no wait.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[]? _buffer;
    private int _length;
    private bool _batching;

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Starts gathering writes. The buffer is rented only now: an idle connection holds none.</summary>
    public async ValueTask BeginBatchAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        _batching = true;
        _buffer ??= ArrayPool<byte>.Shared.Rent(Capacity);
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
                if (_length + buffer.Length > Capacity)
                {
                    await SendGatheredAsync(cancellationToken);
                }

                if (buffer.Length <= Capacity)
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

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

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
