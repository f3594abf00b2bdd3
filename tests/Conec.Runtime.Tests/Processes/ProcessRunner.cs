using System.Diagnostics;
using System.Text;

namespace Conec.Tests.Processes;

/// <summary>Starts the repository's built programs as a user would (<c>dotnet program.dll args</c>) and captures their output.</summary>
internal sealed class ProcessRunner : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProcessRunner(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(_output, e.Data, _outputClosed);
        _process.ErrorDataReceived += (_, e) => Append(_error, e.Data, _errorClosed);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Whether the program has ended (by itself, or killed).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The directory holding the repository (where Conec.sln is).</summary>
    public static string Root
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Conec.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException("The repository root (Conec.sln) is not above the test's directory.");
        }
    }

    /// <summary>The built program <paramref name="name"/> under <paramref name="project"/> (a path from the root), in this test's configuration.</summary>
    public static string Program(string project, string name)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var path = Path.Combine(Root, project, "bin", configuration, "net10.0", name + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build the solution first: {path} is missing.");
    }

    public static ProcessRunner Start(string dll, params string[] arguments) => new("dotnet", [dll, .. arguments]);

    /// <summary>Starts any program, such as <c>ip netns exec</c> wrapping a built one.</summary>
    public static ProcessRunner StartCommand(string fileName, params string[] arguments) => new(fileName, arguments);

    /// <summary>Kills the program outright (SIGKILL): no cleanup, no goodbye, as a crash or power cut would.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Asks the program to stop as a service manager does (SIGTERM; Ctrl+C takes the same path).</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits (bounded) until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, CancellationToken cancellationToken)
    {
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(_process.HasExited && _outputClosed.Task.IsCompleted, $"The program exited without printing '{text}'. Output: {Output} Errors: {Error}");
            await Task.Delay(10, cancellationToken);
        }
    }

    /// <summary>Waits (bounded) for the program to exit; returns its exit code once all its output has been read.</summary>
    public async Task<int> ExitCodeAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder target, string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (target)
        {
            target.Append(line).Append('\n');
        }
    }
}
