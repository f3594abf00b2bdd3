namespace Conec.Benchmarks;

/// <summary>How a Conec fan-out row sends and reads its broadcast.</summary>
internal enum FanOutReading
{
    /// <summary>
    /// What users call: <see cref="TaggedBroadcastInStream.ReadAllLeasedAsync"/> over the member's reader, yielding
    /// (sender, lent payload, lost) with the sender's id parsed from the coordinator's tag; sent with <see cref="OutStream.SendAsync"/>.
    /// </summary>
    Tagged,

    /// <summary>
    /// A generated typed broadcast: sent with <c>FeedSender.Publish</c>, read with <c>FeedBroadcastReader</c>, which
    /// yields (sender, message) and decodes every message, as the SignalR receivers do.
    /// </summary>
    Typed,

    /// <summary>
    /// Raw bytes, not what users call: <see cref="InStream.ReadSequenceAsync"/>, zero-copy, the sender tag never
    /// parsed. The floor of the broadcast path, kept as an extra row.
    /// </summary>
    Raw,
}
