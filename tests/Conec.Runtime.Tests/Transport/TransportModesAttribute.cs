using System.Reflection;
using Conec.Transport;
using Xunit.Sdk;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>
/// Theory data: every transport a contract test runs on. TCP always; QUIC only where libmsquic exists, so a machine
/// without it generates no QUIC case at all (<see cref="QuicCasesNotRunTests"/> reports them once instead of each
/// one printing a skip).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class TransportModesAttribute : DataAttribute
{
    /// <summary>The QUIC cases each theory with this attribute has where libmsquic exists: its QUIC row.</summary>
    public const int QuicRows = 1;

    public override ValueTask<IReadOnlyCollection<ITheoryDataRow>> GetData(MethodInfo testMethod, DisposalTracker disposalTracker)
    {
        IReadOnlyCollection<ITheoryDataRow> rows = TransportFactory.IsQuicSupported
            ? [new TheoryDataRow<TransportMode>(TransportMode.Tcp), new TheoryDataRow<TransportMode>(TransportMode.Quic)]
            : [new TheoryDataRow<TransportMode>(TransportMode.Tcp)];
        return ValueTask.FromResult(rows);
    }

    public override bool SupportsDiscoveryEnumeration() => true;
}
