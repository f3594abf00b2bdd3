namespace Conec.Transport;

/// <summary>Carries a validation callback's refusal reason out of the TLS handshake, one instance per handshake.</summary>
internal sealed class HandshakeFailure
{
    public string? Reason { get; set; }

    /// <summary>
    /// When set, the server's callback accepts a refused client certificate at the TLS layer and leaves the refusal
    /// in <see cref="Reason"/>, so the transport can tell the client why before closing (a bare TLS failure reaches a
    /// TLS 1.3 client as an unexplained close, indistinguishable from a server that ran out of resources).
    /// </summary>
    public bool RefuseAfterHandshake { get; init; }
}
