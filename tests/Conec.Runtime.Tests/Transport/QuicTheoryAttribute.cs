using System.Runtime.CompilerServices;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>A theory that needs QUIC: discovered only where libmsquic exists, its rows counted by <see cref="QuicCasesNotRunTests"/> elsewhere.</summary>
[XunitTestCaseDiscoverer(typeof(QuicAvailabilityDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class QuicTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : TheoryAttribute(sourceFilePath, sourceLineNumber);
