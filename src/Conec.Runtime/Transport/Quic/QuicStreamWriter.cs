using System.Buffers;
using System.Net.Quic;
using System.Runtime.Versioning;

namespace Conec.Transport.Quic;

/// <summary>
/// The send side of a QUIC stream: writes that arrive while one is in flight wait in a buffer and leave together in
/// the next QUIC write, which a single pump task issues.
/// </summary>
/// <remarks>
/// Each <see cref="QuicStream.WriteAsync(ReadOnlyMemory{byte}, bool, CancellationToken)"/> is a round trip to an
/// msquic worker thread, about as costly for 64 bytes as for 64 KiB, so small writes are merged per stream. A write
/// that finds no write in flight is handed to the pump at once; later ones are copied behind it until
/// <see cref="BufferLimit"/> bytes wait, then writers wait (back-pressure). Large writes that find the stream idle
/// go to QUIC straight from the caller's memory. Why this is not the multiplexer's send queue: docs/architecture.md,
/// "The house: the TCP multiplexer".
/// </remarks>
[SupportedOSPlatform("windows")]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
internal sealed class QuicStreamWriter(QuicStream stream)
{
    /// <summary>Bytes that may wait here behind the write in flight before writers wait.</summary>
    internal const int BufferLimit = 64 * 1024;

    /// <summary>A write at least this large that finds the stream idle skips the buffer.</summary>
    private const int DirectWriteBytes = 16 * 1024;

    private readonly Lock _gate = new();
    private byte[]? _pending;
    private int _pendingLength;
    private bool _finRequested;   // CompleteWrites was called: the end follows whatever is pending
    private bool _finSent;
    private bool _busy;           // a direct write or the pump owns the QUIC stream's send side
    private bool _disposeWhenDrained;
    private ConecException? _fault;
    private TaskCompletionSource? _space;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool completeWrites, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? waitForSpace = null;
            var startPump = false;
            lock (_gate)
            {
                ThrowIfClosedLocked();
                _finRequested = completeWrites;
                if (!_busy && _pendingLength == 0 && data.Length >= DirectWriteBytes)
                {
                    _busy = true;
                    break;
                }

                if (_pendingLength < BufferLimit)
                {
                    Append(data.Span);
                    startPump = TakeSendSideLocked();
                }
                else
                {
                    _finRequested = false;
                    _space ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    waitForSpace = _space.Task;
                }
            }

            if (waitForSpace is null)
            {
                if (startPump)
                {
                    // Started on this thread: the QUIC write is submitted before the caller continues, so a lone
                    // message leaves as soon as it would have without the buffer.
                    _ = PumpAsync();
                }

                return;
            }

            await waitForSpace.WaitAsync(cancellationToken);
        }

        // The direct write: this caller owns the send side until it finishes, then hands over whatever came meanwhile.
        var sent = false;
        try
        {
            await stream.WriteAsync(data, completeWrites, cancellationToken);
            sent = true;
        }
        catch (Exception e) when (Map(e) is { } mapped)
        {
            Fail(mapped);
            throw mapped;
        }
        finally
        {
            bool handOver;
            lock (_gate)
            {
                _finSent |= sent && completeWrites;
                _busy = false;
                handOver = HasWorkLocked() && TakeSendSideLocked();
            }

            if (handOver)
            {
                _ = PumpAsync();
            }
        }
    }

    /// <summary>Finishes the send side after everything already written.</summary>
    public void CompleteWrites()
    {
        lock (_gate)
        {
            if (_finRequested || _fault is not null)
            {
                return;
            }

            // Whoever owns the send side now (the pump, or a direct write handing over to it) sends the end.
            _finRequested = true;
            if (!TakeSendSideLocked())
            {
                return;
            }
        }

        _ = PumpAsync();
    }

    /// <summary>Resets the send side at once, dropping what still waits here.</summary>
    public void AbortWrite(long errorCode)
    {
        Fail(new ConecException(ConecError.StreamClosed, $"The stream's sending side was reset (code {errorCode}).", errorCode, null));
        stream.Abort(QuicAbortDirection.Write, errorCode);
    }

    /// <summary>
    /// Finishes writes if still open and releases the QUIC stream once what waits here has been handed to it. It
    /// does not wait for that: a peer that never reads must not hold up the disposer.
    /// </summary>
    public void FinishAndRelease()
    {
        lock (_gate)
        {
            _finRequested |= _fault is null;
            _disposeWhenDrained = true;
            if (!TakeSendSideLocked())
            {
                return; // the pump, or the direct writer through it, disposes the stream
            }
        }

        _ = PumpAsync();
    }

    /// <summary>Whether the pump has anything to do: bytes, the end, or the stream's disposal.</summary>
    private bool HasWorkLocked() => _pendingLength > 0 || (_finRequested && !_finSent && _fault is null) || _disposeWhenDrained;

    /// <summary>Claims the send side for the pump; false when a direct write or the pump already has it.</summary>
    private bool TakeSendSideLocked()
    {
        if (_busy)
        {
            return false;
        }

        _busy = true;
        return true;
    }

    private void ThrowIfClosedLocked()
    {
        if (_fault is { } fault)
        {
            throw new ConecException(fault.Error, fault.Message, fault.ApplicationErrorCode, fault);
        }

        if (_finRequested)
        {
            throw new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.");
        }

        // A stop-sending that QUIC has already processed fails the write now, not at the pump's next write.
        if (stream.WritesClosed is { IsFaulted: true } closed && Map(closed.Exception!.InnerException!) is { } mapped)
        {
            throw mapped;
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        var needed = _pendingLength + data.Length;
        if (_pending is null || needed > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(BufferLimit, 2 * needed)));
            _pending?.AsSpan(0, _pendingLength).CopyTo(larger);
            if (_pending is not null)
            {
                ArrayPool<byte>.Shared.Return(_pending);
            }

            _pending = larger;
        }

        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength = needed;
    }

    /// <summary>Hands the buffer to QUIC batch by batch, then the end, then (when disposed) the stream itself.</summary>
    private async Task PumpAsync()
    {
        while (true)
        {
            byte[]? batch;
            int length;
            bool fin;
            lock (_gate)
            {
                batch = _pending;
                length = _pendingLength;
                fin = _finRequested && !_finSent && _fault is null;
                _pending = null;
                _pendingLength = 0;
                WakeWritersLocked();
                if (length == 0 && !fin)
                {
                    _busy = false;
                    if (!_disposeWhenDrained)
                    {
                        return;
                    }

                    _busy = true; // disposal is the pump's last act; nothing may start another
                    break;
                }
            }

            try
            {
                if (length > 0)
                {
                    await stream.WriteAsync(batch.AsMemory(0, length), fin, CancellationToken.None);
                }
                else
                {
                    stream.CompleteWrites();
                }

                _finSent |= fin;
            }
            catch (Exception e)
            {
                // Writers learn it at their next write; bytes already accepted here are lost with the stream, as
                // bytes in any transport's send buffer are when the peer stops reading or the connection dies.
                Fail(Map(e) ?? new ConecException(ConecError.ConnectionAborted, $"Sending on the QUIC stream failed: {e.Message}", e));
            }
            finally
            {
                if (batch is not null)
                {
                    ArrayPool<byte>.Shared.Return(batch);
                }
            }
        }

        await stream.DisposeAsync();
    }

    private void Fail(ConecException fault)
    {
        lock (_gate)
        {
            _fault ??= fault;
            if (_pending is not null)
            {
                ArrayPool<byte>.Shared.Return(_pending);
                _pending = null;
                _pendingLength = 0;
            }

            WakeWritersLocked();
        }
    }

    private void WakeWritersLocked()
    {
        _space?.TrySetResult();
        _space = null;
    }

    /// <summary>The Conec error for a failed QUIC write, or <see langword="null"/> for one that is not a transport failure.</summary>
    private ConecException? Map(Exception e) => e switch
    {
        QuicException quic => QuicErrors.Map(quic, writing: true),
        System.Security.Authentication.AuthenticationException tls => QuicErrors.Map(tls),
        InvalidOperationException when stream.WritesClosed.IsCompleted =>
            new ConecException(ConecError.StreamClosed, "The stream's sending side is already finished.", e),
        ConecException conec => conec,
        _ => null,
    };
}
