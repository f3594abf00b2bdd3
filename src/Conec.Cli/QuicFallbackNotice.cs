using System.Net.Quic;

namespace Conec.Cli;

/// <summary>
/// Says on standard error that <see cref="TransportMode.Auto"/> is using TCP because this machine has no QUIC, and
/// why: otherwise nothing tells a user that QUIC was never tried. Once per process, however many connections follow.
/// </summary>
internal static class QuicFallbackNotice
{
    private static int _written;

    /// <summary>What System.Net.Quic reports; the runtime asks the same two questions before choosing TCP.</summary>
    public static bool IsQuicSupported =>
        (OperatingSystem.IsLinux() || OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()) && QuicListener.IsSupported && QuicConnection.IsSupported;

    public static string Message =>
        $"conec: QUIC is unavailable, so this uses TCP: System.Net.Quic reports QuicListener.IsSupported and QuicConnection.IsSupported false ({Reason}).";

    private static string Reason =>
        OperatingSystem.IsWindows() ? "QUIC needs Windows 11 or Windows Server 2022"
        : OperatingSystem.IsLinux() ? "libmsquic is missing or cannot be loaded; Microsoft packages it, Debian does not"
        : OperatingSystem.IsMacOS() ? "libmsquic is missing or cannot be loaded"
        : "System.Net.Quic does not run on this operating system";

    /// <summary>Writes the notice the first time a connection or listener in <paramref name="mode"/> falls back to TCP.</summary>
    public static void WriteOnce(TransportMode mode, TextWriter error)
    {
        if (mode == TransportMode.Auto && !IsQuicSupported && Interlocked.Exchange(ref _written, 1) == 0)
        {
            error.WriteLine(Message);
        }
    }
}
