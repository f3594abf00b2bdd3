using System.Runtime.CompilerServices;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>A fact about the absence of QUIC: discovered only where libmsquic is missing.</summary>
[XunitTestCaseDiscoverer(typeof(QuicAvailabilityDiscoverer))]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class QuicMissingFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
    : FactAttribute(sourceFilePath, sourceLineNumber);
