using MessagePack;

namespace Conec.Protocol;

/// <summary>Turns the decoder's exceptions into the one error a malformed control message or header is.</summary>
internal static class WireFormatException
{
    /// <summary>Whether <paramref name="exception"/> is how MessagePack reports malformed or truncated input.</summary>
    public static bool IsMalformed(Exception exception) =>
        exception is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException;

    public static ConecException Malformed(string what, Exception? cause = null) =>
        new(ConecError.ProtocolViolation, $"Malformed {what}{(cause is null ? "." : $": {cause.Message}")}", cause);
}
