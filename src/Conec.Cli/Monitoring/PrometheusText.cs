using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Conec.Cli.Monitoring;

/// <summary>
/// Conec's meter in the Prometheus text format (version 0.0.4), kept by a <see cref="MeterListener"/>: counters as
/// running totals per tag set, up-down counters as sums, observable gauges read at each scrape. Small on purpose:
/// the OpenTelemetry exporter for a bare HttpListener is a prerelease package with the whole SDK behind it
/// (docs/architecture.md, "Monitoring").
/// </summary>
internal sealed class PrometheusText : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), double> _values = new();
    private readonly Lock _observing = new();

    public PrometheusText()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Conec.Diagnostics.ConecTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>Every instrument seen so far, one family each, with HELP and TYPE lines.</summary>
    public string Scrape()
    {
        lock (_observing)
        {
            // Gauges report a fresh value on each read: drop the last ones, then ask.
            foreach (var key in _values.Keys.Where(k => IsGauge(k.Instrument)))
            {
                _values.TryRemove(key, out _);
            }

            _listener.RecordObservableInstruments();
        }

        var text = new StringBuilder();
        foreach (var family in _values.GroupBy(v => v.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = family.Key;
            var counter = instrument is Counter<int> or Counter<long> or Counter<double>;
            var name = Name(instrument) + (counter ? "_total" : "");
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description ?? instrument.Name).Append('\n');
            text.Append("# TYPE ").Append(name).Append(counter ? " counter\n" : " gauge\n");
            foreach (var ((_, labels), value) in family.OrderBy(v => v.Key.Labels, StringComparer.Ordinal))
            {
                text.Append(name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        var labels = Labels(tags);
        if (IsGauge(instrument))
        {
            _values[(instrument, labels)] = number;
        }
        else
        {
            _values.AddOrUpdate((instrument, labels), number, (_, old) => old + number);
        }
    }

    private static bool IsGauge(Instrument instrument) => instrument.IsObservable;

    /// <summary>Prometheus names: letters, digits and underscores; the unit "By" becomes the base unit "bytes".</summary>
    private static string Name(Instrument instrument)
    {
        var name = new StringBuilder(instrument.Name.Length + 8);
        foreach (var c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return instrument.Unit == "By" ? name.Append("_bytes").ToString() : name.ToString();
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            pairs.Add(key.Replace('.', '_') + "=\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return "{" + string.Join(',', pairs) + "}";
    }
}
