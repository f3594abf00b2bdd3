using System.Text;

namespace Conec.Protocol;

/// <summary>
/// The sender ids a broadcast reader has already decoded, so a sender's messages after its first reuse one string
/// instead of decoding and allocating it again. Holds the most recent <see cref="Capacity"/> senders; a room with
/// more active senders than that still works, decoding those that fell out.
/// </summary>
internal sealed class SenderIdCache
{
    public const int Capacity = 32;

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly byte[][] _ids = new byte[Capacity][];
    private readonly string[] _names = new string[Capacity];
    private int _count;
    private int _next;
    private int _last;

    /// <summary>The id as a string, from the cache when these bytes were seen before.</summary>
    /// <exception cref="ConecException"><see cref="ConecError.MalformedTag"/> when the bytes are not UTF-8.</exception>
    public string Get(ReadOnlySpan<byte> id)
    {
        // Consecutive messages from one sender are the common case: try the last hit first.
        if (_count > 0 && id.SequenceEqual(_ids[_last]))
        {
            return _names[_last];
        }

        for (var i = 0; i < _count; i++)
        {
            if (id.SequenceEqual(_ids[i]))
            {
                _last = i;
                return _names[i];
            }
        }

        string name;
        try
        {
            name = Strict.GetString(id);
        }
        catch (DecoderFallbackException e)
        {
            throw new ConecException(ConecError.MalformedTag, "A broadcast message's sender id is not UTF-8.", e);
        }

        _ids[_next] = id.ToArray();
        _names[_next] = name;
        _last = _next;
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
        return name;
    }
}
