using System.Runtime.CompilerServices;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>A fact that needs QUIC: discovered only where libmsquic exists, counted by <see cref="QuicCasesNotRunTests"/> elsewhere.</summary>
[XunitTestCaseDiscoverer(typeof(QuicAvailabilityDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class QuicFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : FactAttribute(sourceFilePath, sourceLineNumber);
