using System.Runtime.CompilerServices;

namespace Conec;

/// <summary>Enumeration over any <see cref="IMessageSource"/>.</summary>
public static class MessageSourceExtensions
{
    /// <summary>Yields every message until the end of the stream.</summary>
    public static async IAsyncEnumerable<ReceivedMessage> ReadAllAsync(this IMessageSource source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        while (await source.ReceiveAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }
}
