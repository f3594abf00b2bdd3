namespace Conec.Benchmarks;

/// <summary>
/// Limits on how long one step of a benchmark that talks to other processes may take, so that a hung peer fails
/// the run with a message naming the step instead of leaving it waiting forever.
/// </summary>
internal static class Deadline
{
    /// <summary>Starting a process or connecting to one (a few seconds on a busy 2-core machine).</summary>
    public static readonly TimeSpan Setup = TimeSpan.FromSeconds(30);

    /// <summary>One measured run: a few thousand round trips take seconds even when the machine is shared.</summary>
    public static readonly TimeSpan Run = TimeSpan.FromSeconds(60);

    /// <summary>Stopping a peer, after which a child process is killed.</summary>
    public static readonly TimeSpan Stop = TimeSpan.FromSeconds(10);

    /// <summary><paramref name="task"/>'s result, or a <see cref="TimeoutException"/> naming <paramref name="what"/> once <paramref name="limit"/> has passed.</summary>
    public static async Task<T> WithinAsync<T>(this Task<T> task, TimeSpan limit, string what)
    {
        try
        {
            return await task.WaitAsync(limit);
        }
        catch (TimeoutException e) when (!task.IsCompleted)
        {
            throw new TimeoutException($"{what} did not finish within {limit.TotalSeconds} s: a peer seems to hang.", e);
        }
    }

    /// <summary>As <see cref="WithinAsync{T}"/>, for a task without a result.</summary>
    public static async Task WithinAsync(this Task task, TimeSpan limit, string what)
    {
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException e) when (!task.IsCompleted)
        {
            throw new TimeoutException($"{what} did not finish within {limit.TotalSeconds} s: a peer seems to hang.", e);
        }
    }
}
