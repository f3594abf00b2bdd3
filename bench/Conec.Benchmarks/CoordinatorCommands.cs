using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Conec.Benchmarks;

/// <summary>
/// The coordinator child's answers beyond <c>measure</c>: <c>count</c> says its clients, its capacity and the
/// refusals it counted (by instrument and reason, from the "Conec" meter); <c>until-clients N</c> answers once
/// <see cref="Coord.ClientCount"/> is N or fewer. The latter is driven by the clients counter's measurements, so it
/// answers at the unregistration that reaches N rather than at the next poll.
/// </summary>
internal sealed class CoordinatorCommands : IDisposable
{
    private const string ClientsInstrument = "conec.coordinator.clients";
    private static readonly string[] RefusalInstruments = ["conec.coordinator.refusals", "conec.handshake.failures"];

    private readonly Coord _coord;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _refusals = new(StringComparer.Ordinal);
    private volatile Waiter? _waiter;

    public CoordinatorCommands(Coord coord)
    {
        _coord = coord;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Conec" && (instrument.Name == ClientsInstrument || RefusalInstruments.Contains(instrument.Name)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, _, _, _) => CheckWaiter());
        _listener.SetMeasurementEventCallback<long>((instrument, measurement, tags, _) =>
        {
            var reason = "unknown";
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value?.ToString() ?? reason;
                }
            }

            _refusals.AddOrUpdate($"{instrument.Name}:{reason}", measurement, (_, sum) => sum + measurement);
        });
        _listener.Start();
    }

    /// <summary>The answer to <paramref name="command"/>, or <see langword="null"/> for a command this does not know.</summary>
    public async Task<string?> AnswerAsync(string command)
    {
        switch (command.Split(' '))
        {
            case ["count"]:
                var refusals = string.Join(' ', _refusals.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}={r.Value}"));
                return string.Create(CultureInfo.InvariantCulture, $"clients {_coord.ClientCount} capacity {_coord.MaxClients} {refusals}").TrimEnd();
            case ["until-clients", var target]:
                var waiter = new Waiter(int.Parse(target, CultureInfo.InvariantCulture));
                _waiter = waiter;
                CheckWaiter(); // the count may be there already: the condition is a level, not an event
                await waiter.Reached.Task;
                _waiter = null;
                return string.Create(CultureInfo.InvariantCulture, $"clients {_coord.ClientCount}");
            default:
                return null;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void CheckWaiter()
    {
        if (_waiter is { } waiter && _coord.ClientCount <= waiter.Target)
        {
            waiter.Reached.TrySetResult();
        }
    }

    private sealed record Waiter(int Target)
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
