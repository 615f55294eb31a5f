using System.Globalization;

namespace Aitbc.Load;

/// <summary>
/// What a Prometheus text exposition gained between two scrapes: counters and histogram series (buckets, sums, counts)
/// as the difference, gauges as their value at the end. The load tool scrapes the coordinator before and after the
/// measured run, so warm-up traffic does not count.
/// </summary>
public static class MetricsDelta
{
    /// <summary>One line per series that changed (or, for a gauge, is not zero), in the order of <paramref name="after"/>.</summary>
    public static IReadOnlyList<string> Between(string before, string after)
    {
        var earlier = Samples(before).ToDictionary(s => s.Series, s => s.Value, StringComparer.Ordinal);
        var types = Types(after);
        var lines = new List<string>();
        foreach (var (series, value) in Samples(after))
        {
            var gauge = types.GetValueOrDefault(BaseName(series, types)) == "gauge";
            var shown = gauge ? value : value - earlier.GetValueOrDefault(series);
            if (shown != 0)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{series} {shown:G10}"));
            }
        }
        return lines;
    }

    private static IEnumerable<(string Series, double Value)> Samples(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var space = line.LastIndexOf(' ');
            if (line.Length == 0 || line[0] == '#' || space <= 0
                || !double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            yield return (line[..space], value);
        }
    }

    private static Dictionary<string, string> Types(string text) =>
        text.Split('\n')
            .Select(l => l.Trim().Split(' ', 4))
            .Where(p => p is ["#", "TYPE", _, _])
            .GroupBy(p => p[2], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[3], StringComparer.Ordinal);

    /// <summary>The metric a series belongs to: its name without labels, and without a histogram's _bucket/_sum/_count.</summary>
    private static string BaseName(string series, Dictionary<string, string> types)
    {
        var brace = series.IndexOf('{', StringComparison.Ordinal);
        var name = brace < 0 ? series : series[..brace];
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.ContainsKey(name[..^suffix.Length]))
            {
                return name[..^suffix.Length];
            }
        }
        return name;
    }
}
