using Conec.Transport;
using Xunit.Sdk;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>
/// Discovers <see cref="QuicFactAttribute"/> and <see cref="QuicTheoryAttribute"/> tests only where QUIC can run,
/// and <see cref="QuicMissingFactAttribute"/> tests only where it cannot; elsewhere the method yields no test case,
/// so nothing is reported for it.
/// </summary>
internal sealed class QuicAvailabilityDiscoverer : IXunitTestCaseDiscoverer
{
    public ValueTask<IReadOnlyCollection<IXunitTestCase>> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod, IFactAttribute factAttribute)
    {
        var wanted = factAttribute is QuicMissingFactAttribute ? !TransportFactory.IsQuicSupported : TransportFactory.IsQuicSupported;
        if (!wanted)
        {
            return ValueTask.FromResult<IReadOnlyCollection<IXunitTestCase>>([]);
        }

        IXunitTestCaseDiscoverer inner = factAttribute is ITheoryAttribute ? new TheoryDiscoverer() : new FactDiscoverer();
        return inner.Discover(discoveryOptions, testMethod, factAttribute);
    }
}
