using Conec.Transport;

namespace Conec.Benchmarks;

/// <summary>A transport stream as a <see cref="Stream"/>, so the byte-stream rows run the same code for every variant.</summary>
internal sealed class TransportStreamAdapter(TransportStream inner) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await inner.Input.ReadAsync(cancellationToken);
        var count = (int)Math.Min(buffer.Length, result.Buffer.Length);
        var slice = result.Buffer.Slice(0, count);
        foreach (var segment in slice)
        {
            segment.Span.CopyTo(buffer.Span);
            buffer = buffer[segment.Length..];
        }

        inner.Input.AdvanceTo(slice.End);
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(buffer, false, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.CompleteWrites();
        }

        base.Dispose(disposing);
    }
}
