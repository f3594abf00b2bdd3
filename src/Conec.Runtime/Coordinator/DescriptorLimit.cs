using System.Runtime.InteropServices;

namespace Conec.Coordinator;

/// <summary>
/// The process's descriptor limit (the soft RLIMIT_NOFILE, what <c>ulimit -n</c> shows), read from libc's
/// <c>getrlimit</c>: .NET has no API for it. Linux and macOS; elsewhere (Windows, which has no such limit on
/// sockets) there is none to read.
/// </summary>
internal static partial class DescriptorLimit
{
    private const int LinuxNoFile = 7;
    private const int MacNoFile = 8;

    /// <summary>The soft limit, or null with <paramref name="unknown"/> saying why none could be read.</summary>
    public static long? Read(out string? unknown)
    {
        var resource = OperatingSystem.IsLinux() ? LinuxNoFile : OperatingSystem.IsMacOS() ? MacNoFile : -1;
        if (resource < 0)
        {
            unknown = $"{RuntimeInformation.OSDescription} has no descriptor limit to read";
            return null;
        }

        try
        {
            if (GetRLimit(resource, out var limit) != 0)
            {
                unknown = $"getrlimit failed with errno {Marshal.GetLastPInvokeError()}";
                return null;
            }

            // RLIM_INFINITY (all ones on Linux, 2^63-1 on macOS) and other huge values: as good as no limit.
            unknown = null;
            return (long)Math.Min((ulong)limit.Current, int.MaxValue);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unknown = $"libc's getrlimit could not be called ({e.Message})";
            return null;
        }
    }

    /// <summary><c>struct rlimit</c>: two <c>rlim_t</c>, an unsigned long on Linux (pointer-sized) and 64 bits on macOS (64-bit only).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current;
        public nuint Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);
}
