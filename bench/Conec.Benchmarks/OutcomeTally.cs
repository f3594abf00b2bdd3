using System.Collections.Concurrent;
using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>
/// How many of many attempts succeeded, and the others by reason (a <see cref="ConecError"/> name, or an exception
/// type): a connect storm's admitted and refused clients, or idle clients still connected and lost. Written on one
/// line between the scale benchmark's processes as <c>word succeeded seconds reason=n …</c>.
/// </summary>
internal sealed class OutcomeTally(int succeeded = 0)
{
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private int _succeeded = succeeded;

    public int Succeeded => Volatile.Read(ref _succeeded);

    public int Failed => _failures.Values.Sum();

    public IReadOnlyDictionary<string, int> Failures => _failures;

    public void Succeed() => Interlocked.Increment(ref _succeeded);

    public void Fail(string reason) => _failures.AddOrUpdate(reason, 1, (_, n) => n + 1);

    /// <summary>The reason a failed attempt is counted under: the error of a <see cref="ConecException"/>, else the exception's type.</summary>
    public static string ReasonOf(Exception exception) => exception is ConecException conec ? conec.Error.ToString() : exception.GetType().Name;

    /// <summary>Adds <paramref name="other"/>'s counts to this one's.</summary>
    public void Add(OutcomeTally other)
    {
        Interlocked.Add(ref _succeeded, other.Succeeded);
        foreach (var (reason, count) in other._failures)
        {
            _failures.AddOrUpdate(reason, count, (_, n) => n + count);
        }
    }

    public string Format(string word, double seconds) => string.Create(CultureInfo.InvariantCulture,
        $"{word} {Succeeded} {seconds:0.000} {string.Join(' ', _failures.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"))}").TrimEnd();

    /// <summary>Reads what <see cref="Format"/> wrote, checking its first word is <paramref name="word"/>.</summary>
    public static (OutcomeTally Tally, double Seconds) Parse(string line, string word)
    {
        var parts = line.Split(' ');
        if (parts.Length < 3 || parts[0] != word)
        {
            throw new InvalidOperationException($"Expected '{word} …' from a client process, not '{line}'.");
        }

        var tally = new OutcomeTally(int.Parse(parts[1], CultureInfo.InvariantCulture));
        foreach (var failure in parts.Skip(3))
        {
            var (reason, count) = (failure[..failure.IndexOf('=', StringComparison.Ordinal)], failure[(failure.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            tally._failures[reason] = int.Parse(count, CultureInfo.InvariantCulture);
        }

        return (tally, double.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The failures as text for a note, such as "CoordinatorFull 1,506, ConnectionLost 2", or "none".</summary>
    public string DescribeFailures() => _failures.IsEmpty
        ? "none"
        : string.Join(", ", _failures.OrderByDescending(f => f.Value).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key} {f.Value:N0}")));
}
