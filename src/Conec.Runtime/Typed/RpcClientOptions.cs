namespace Conec;

/// <summary>
/// How a generated RPC client behaves: what one streamed call may hold, how many calls may wait to be sent, how long a
/// call may take, and the filters every call passes through.
/// </summary>
public sealed class RpcClientOptions
{
    /// <summary>
    /// Bytes of a streamed result's items the caller holds before the server must wait (1 MiB by default, the
    /// transport's own per-stream window): the server sends while the caller has granted credit, and the caller
    /// grants more as it reads. 256 KiB measured 1.36-1.45x gRPC for 16 KiB items where 1 MiB gave 1.54-1.69x
    /// (docs/generator.md); a paused caller holds at most this (plus one item) per call, and each call has its own
    /// window, so a slow call never stalls the others.
    /// </summary>
    public int StreamedResultWindow { get; set; } = 1024 * 1024;

    /// <summary>
    /// Calls and one-way messages queued for the stream's writer before further callers wait (256 by default):
    /// a burst of calls then waits for the stream's back-pressure instead of piling up in memory. Calls already sent
    /// and awaiting their results are not counted.
    /// </summary>
    public int MaxQueuedCalls { get; set; } = 256;

    /// <summary>
    /// How long each call may take, from when it is made, unless the client was given its own deadline
    /// (<c>WithDeadline</c>, <c>WithTimeout</c>); null (the default) sets none. The time left travels with the call, the
    /// server's handler sees its token cancelled when it runs out, and the caller gets
    /// <see cref="ConecError.DeadlineExceeded"/>.
    /// </summary>
    public TimeSpan? DefaultDeadline { get; set; }

    /// <summary>Filters around every call and one-way message, outermost first; empty by default, and then free.</summary>
    public IList<IRpcClientFilter> Filters { get; } = new List<IRpcClientFilter>();

    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/>, naming the property.</exception>
    public void Validate()
    {
        Require(StreamedResultWindow >= 1024, nameof(StreamedResultWindow), "must be at least 1,024 bytes");
        Require(MaxQueuedCalls >= 1, nameof(MaxQueuedCalls), "must be at least 1");
        Require(DefaultDeadline is null || DefaultDeadline > TimeSpan.Zero, nameof(DefaultDeadline), "must be positive, or null for none");
        Require(!Filters.Any(f => f is null), nameof(Filters), "must not contain null");
    }

    private static void Require(bool condition, string property, string rule)
    {
        if (!condition)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"RpcClientOptions.{property} {rule}.");
        }
    }
}
