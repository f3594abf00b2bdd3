namespace Conec;

/// <summary>
/// Anything that yields whole messages in order: an <see cref="InStream"/> or an adapter over one. Adapters take a
/// source and are sources, so they stack (for example <c>new TaglessBroadcastInStream(new NonblockingInStream(receive, 16))</c>).
/// </summary>
public interface IMessageSource : IAsyncDisposable
{
    /// <summary>The next message, or <see langword="null"/> at the end of the stream.</summary>
    /// <exception cref="ConecException">The stream failed; adapters pass the failure of the stream they wrap through unchanged.</exception>
    ValueTask<ReceivedMessage?> ReceiveAsync(CancellationToken cancellationToken = default);
}
