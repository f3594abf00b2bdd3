namespace Conec;

/// <summary>
/// What the coordinator does when a broadcast receiver falls behind by its whole queue (the vocabulary of
/// <see cref="System.Threading.Channels.BoundedChannelFullMode"/>). Each receiver chooses its own when it joins.
/// </summary>
public enum SlowReceiverPolicy
{
    /// <summary>Lossless: the channel waits for this receiver, so the slowest such receiver throttles every sender (conec's behaviour).</summary>
    Wait = 0,

    /// <summary>The oldest queued message is dropped; the receiver learns exactly how many it lost, in order with the data.</summary>
    DropOldest = 1,

    /// <summary>The receiver is cut off (its reads fail with <see cref="ConecError.StreamAborted"/> and code 0x13); nobody else notices.</summary>
    Disconnect = 2,
}
