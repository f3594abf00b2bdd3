namespace Conec.Transport;

/// <summary>Carries a validation callback's refusal reason out of the TLS handshake, one instance per handshake.</summary>
internal sealed class HandshakeFailure
{
    public string? Reason { get; set; }
}
