using Microsoft.Win32.SafeHandles;

namespace Conec.Transport;

/// <summary>
/// Descriptors the process keeps open on <c>/dev/null</c> for the moment an accept finds none left (EMFILE).
/// Giving them back then leaves the rest of the process room: the .NET runtime needs descriptors to start a thread
/// (a pipe, seen with strace) and treats a thread it cannot start as "Out of memory.", which ends the process. Once
/// they are back, an accept loop takes no connection until they can be taken again with as many to spare, so
/// accepting resumes only after that many descriptors were closed elsewhere. One set serves the whole process.
/// </summary>
internal static class SpareDescriptors
{
    /// <summary>
    /// How many: a thread start takes two, an assembly load one or two, a log file one; 16 covers several of these
    /// at once while costing little of any limit a coordinator can run under.
    /// </summary>
    public const int Count = 16;

    private static readonly Lock Gate = new();
    private static readonly List<SafeFileHandle> Held = [];

    /// <summary>Why this process keeps no spares (Windows has no descriptor limit to run into), or null.</summary>
    public static string? UnavailableReason { get; private set; } = OperatingSystem.IsWindows() ? "Windows has no descriptor limit" : null;

    /// <summary>Whether the spares are held now (false after <see cref="Release"/> until a refill succeeds).</summary>
    public static bool IsHeld
    {
        get
        {
            lock (Gate)
            {
                return UnavailableReason is not null || Held.Count == Count;
            }
        }
    }

    /// <summary>
    /// Takes the spares unless held; with <paramref name="surplus"/>, only when that many more could be opened too
    /// (they are closed again at once). False, with nothing held, when descriptors are short.
    /// </summary>
    public static bool TryTake(int surplus = 0)
    {
        lock (Gate)
        {
            if (UnavailableReason is not null || Held.Count == Count)
            {
                return true;
            }

            var extra = new List<SafeFileHandle>();
            try
            {
                while (Held.Count < Count)
                {
                    Held.Add(Open());
                }

                while (extra.Count < surplus)
                {
                    extra.Add(Open());
                }

                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Short of descriptors: give back what was taken, and say so. Without a usable /dev/null there are none to keep.
                if (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
                {
                    UnavailableReason = $"no spare descriptors can be kept ({e.Message})";
                }

                ReleaseLocked();
                return UnavailableReason is not null;
            }
            finally
            {
                foreach (var handle in extra)
                {
                    handle.Dispose();
                }
            }
        }
    }

    /// <summary>Closes the spares so the rest of the process can use them; called when an accept found no descriptor.</summary>
    public static void Release()
    {
        lock (Gate)
        {
            ReleaseLocked();
        }
    }

    private static SafeFileHandle Open() => File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

    private static void ReleaseLocked()
    {
        foreach (var handle in Held)
        {
            handle.Dispose();
        }

        Held.Clear();
    }
}
