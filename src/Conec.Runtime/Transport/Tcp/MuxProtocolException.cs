namespace Conec.Transport.Tcp;

/// <summary>Raised inside the reader loop when the peer breaks the multiplexer protocol; it closes the connection.</summary>
internal sealed class MuxProtocolException(string message) : Exception(message);
