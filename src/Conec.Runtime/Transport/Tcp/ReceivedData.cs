namespace Conec.Transport.Tcp;

/// <summary>What became of a data frame's bytes handed to a stream by the reader loop.</summary>
internal enum ReceivedData
{
    /// <summary>Nobody will read them (the stream stopped reading or was reset): the caller returns their credit.</summary>
    Discarded,

    /// <summary>In the stream's receive pipe, readable once the reader loop flushes it.</summary>
    Buffered,

    /// <summary>
    /// Queued on the stream a relay forwards to (any rest dropped, as reading stopped meanwhile); their connection
    /// credit is already returned.
    /// </summary>
    Forwarded,
}
