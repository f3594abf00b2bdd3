using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conec.Tests.Coordination;

/// <summary>Records every log entry so tests can assert that a refusal was logged with its reason.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<(int EventId, string Message)> _entries = new();

    public IReadOnlyCollection<(int EventId, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(_entries);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("The capturing factory has no providers.");

    public void Dispose()
    {
    }

    /// <summary>Waits (bounded) for an entry with <paramref name="eventId"/>; returns its message.</summary>
    public Task<string> WaitForAsync(int eventId) => WaitForAsync(eventId, "");

    /// <summary>Waits (bounded) for an entry with <paramref name="eventId"/> whose message contains <paramref name="text"/>.</summary>
    public async Task<string> WaitForAsync(int eventId, string text)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            foreach (var entry in _entries)
            {
                if (entry.EventId == eventId && entry.Message.Contains(text, StringComparison.Ordinal))
                {
                    return entry.Message;
                }
            }

            Assert.True(started.Elapsed < Timeouts.Operation, $"No log entry with event id {eventId} and '{text}' within {Timeouts.Operation}.");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    private sealed class Logger(ConcurrentQueue<(int EventId, string Message)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((eventId.Id, formatter(state, exception)));
    }
}
