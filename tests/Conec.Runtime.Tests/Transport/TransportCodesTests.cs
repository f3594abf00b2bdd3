using Conec.Protocol;
using Conec.Transport;

namespace Conec.Tests.Transport;

/// <summary>The codes the transport puts on the wire itself mean what the Conec protocol says they mean.</summary>
public sealed class TransportCodesTests
{
    [Fact]
    public void Transport_codes_equal_the_protocol_codes_for_the_same_events()
    {
        Assert.Equal(ProtocolCodes.CloseProtocolViolation, TransportCodes.CloseProtocolViolation);
        Assert.Equal(ProtocolCodes.StreamHeaderRefused, TransportCodes.StreamRefused);
        Assert.Equal(ProtocolCodes.CloseCoordinatorFull, TransportCodes.CloseCoordinatorFull);
    }
}
