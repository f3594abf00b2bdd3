using System.Diagnostics;
using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>The parent's side of one <see cref="ScaleClients"/> child: its share of the clients, its commands, its end.</summary>
internal sealed class ScaleClientsProcess : IAsyncDisposable
{
    /// <summary>Disposing a few thousand clients at once takes seconds on a busy machine; past this the process is killed.</summary>
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private bool _killed;

    private ScaleClientsProcess(Process process, int first, int count)
    {
        _process = process;
        First = first;
        Count = count;
    }

    /// <summary>The index of this process's first client (its id is <see cref="ScaleClients.Id"/> of it).</summary>
    public int First { get; }

    /// <summary>How many clients this process holds identities for.</summary>
    public int Count { get; }

    /// <summary>Whether the child has ended or been killed (a killed child may take a moment to end; it takes no more commands).</summary>
    public bool HasExited => _killed || _process.HasExited;

    /// <summary>Starts the child, which begins by making its identities; <see cref="ReadAsync"/> then reads <c>ready</c>.</summary>
    public static ScaleClientsProcess Start(string authorityPath, int first, int count, int concurrency) =>
        new(CoordinatorProcess.StartSelf(ScaleClients.Mode, authorityPath, Text(first), Text(count), Text(concurrency)), first, count);

    /// <summary>The child's user plus system time so far (<c>/proc/&lt;pid&gt;/stat</c>); zero once it has been killed.</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            if (HasExited)
            {
                return TimeSpan.Zero;
            }

            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public Task SendAsync(string command) => _process.StandardInput.WriteLineAsync(command);

    /// <summary>The child's next line, within <paramref name="limit"/>; a child that exits or says <c>failed …</c> fails <paramref name="what"/>.</summary>
    public async Task<string> ReadAsync(TimeSpan limit, string what)
    {
        var line = await _process.StandardOutput.ReadLineAsync().WithinAsync(limit, what)
            ?? throw new InvalidOperationException($"{what}: client process {First}–{First + Count - 1} exited (its error is above).");
        return line.StartsWith("failed ", StringComparison.Ordinal) || line.StartsWith("unknown ", StringComparison.Ordinal)
            ? throw new InvalidOperationException($"{what}: client process {First}–{First + Count - 1} said '{line}'.")
            : line;
    }

    /// <summary>Kills the child at once, its clients' connections closed by the kernel as the process ends.</summary>
    public void Kill()
    {
        _killed = true;
        _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!HasExited)
            {
                await SendAsync("exit");
            }

            await _process.WaitForExitAsync().WithinAsync(ExitLimit, $"Client process {First}–{First + Count - 1}'s exit");
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
