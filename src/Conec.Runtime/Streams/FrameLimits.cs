namespace Conec.Streams;

/// <summary>The message framing: a 4-byte big-endian length, then that many payload bytes (docs/protocol.md).</summary>
internal static class FrameLimits
{
    public const int HeaderSize = 4;

    /// <summary>conec's limit: 8 MiB per message, both directions.</summary>
    public const int DefaultMaxMessageSize = 8 * 1024 * 1024;

    /// <summary>
    /// Messages up to this size are copied behind their header and written once, so a small message costs one
    /// transport write; larger ones are written as header then payload, without a copy.
    /// </summary>
    public const int CoalesceLimit = 4096;

    /// <summary>Stream error code sent with stop-sending when a peer's message exceeds our limit.</summary>
    public const long MessageTooLargeCode = 0x10;

    public static void Validate(int maxMessageSize)
    {
        if (maxMessageSize is < 0 or > int.MaxValue - HeaderSize)
        {
            throw new ConecException(ConecError.InvalidConfiguration, $"The maximum message size {maxMessageSize} is out of range.");
        }
    }
}
