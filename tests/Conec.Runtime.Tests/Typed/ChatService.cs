using System.Collections.Concurrent;

namespace Conec.Tests.Typed;

/// <summary>An <see cref="IChat"/> implementation that records what it was asked and lets tests observe cancellation.</summary>
internal sealed class ChatService : IChat
{
    public ConcurrentQueue<ChatLine> Lines { get; } = new();

    public ConcurrentQueue<string> Shouts { get; } = new();

    public TaskCompletionSource WaitStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource WaitCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask Say(ChatLine line)
    {
        Lines.Enqueue(line);
        return ValueTask.CompletedTask;
    }

    public Task Shout(string text, int times)
    {
        Shouts.Enqueue(string.Concat(Enumerable.Repeat(text, times)));
        return Task.CompletedTask;
    }

    public ValueTask<int> Roll(int sides, CancellationToken cancellationToken) => ValueTask.FromResult(sides * 10);

    public Task<string> Describe(ChatLine line) => Task.FromResult($"{line.Text} ({line.Mood})");

    public ValueTask Fail(string message) => throw new InvalidOperationException(message);

    public TaskCompletionSource CountStopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async IAsyncEnumerable<int> Count(int upTo, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 1; i <= upTo; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return i;
                await Task.Yield();
            }
        }
        finally
        {
            CountStopped.TrySetResult();
        }
    }

    public async ValueTask<int> Wait(int milliseconds, CancellationToken cancellationToken)
    {
        WaitStarted.TrySetResult();
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
            return milliseconds;
        }
        catch (OperationCanceledException)
        {
            WaitCancelled.TrySetResult();
            throw;
        }
    }
}
