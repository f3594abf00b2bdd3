namespace Conec;

/// <summary>Whether and how a client reconnects after losing its coordinator (off by default, as in conec).</summary>
public sealed class ReconnectPolicy
{
    /// <summary>Reconnect automatically.</summary>
    public bool Enabled { get; set; }

    /// <summary>The wait before the first attempt; each failed attempt doubles it, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts. 10 s keeps a restarted coordinator from a thundering herd while staying prompt.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);
}
