namespace Conec.Transport;

/// <summary>
/// A stream that can hand the bytes it receives straight to another stream's send side, skipping its
/// <see cref="TransportStream.Input"/>; only the TCP multiplexer's streams offer it, and only a relay asks (with
/// <c>is</c>), since every byte read must then be written to that target.
/// </summary>
internal interface IReceiveForwarding
{
    /// <summary>
    /// Forwards received bytes to <paramref name="target"/> while <see cref="TransportStream.Input"/> holds nothing
    /// and the target has credit for them; the rest still arrives through <see cref="TransportStream.Input"/>, in
    /// order. <paramref name="onForwarded"/> is told each count forwarded. Returns false where the target is a kind
    /// of stream this one cannot queue on.
    /// </summary>
    bool TryForwardReceivedTo(TransportStream target, Action<long> onForwarded);
}
