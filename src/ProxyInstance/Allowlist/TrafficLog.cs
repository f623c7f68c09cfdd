using System.Globalization;
using System.IO.Compression;
using System.Text;
using EgressLab.ProxyInstance.AccessLog;

namespace EgressLab.ProxyInstance.Allowlist;

/// <summary>What reading the logs found besides requests: lines skipped, and why.</summary>
internal sealed class TrafficSummary
{
    private readonly List<string> _malformed = [];

    /// <summary>Request lines read, whatever their decision or time.</summary>
    public int Lines { get; set; }

    /// <summary>Lines older than <c>--since</c>.</summary>
    public int BeforeSince { get; set; }

    public int Malformed { get; set; }

    /// <summary>One note per log with malformed lines: how many, and the first with its line number and what is wrong.</summary>
    public IReadOnlyList<string> MalformedNotes => _malformed;

    internal void AddMalformed(string source, int count, int firstLine, string firstError)
    {
        Malformed += count;
        _malformed.Add(string.Create(CultureInfo.InvariantCulture,
            $"{source}: {count} malformed line(s) skipped; the first is line {firstLine}: {firstError}"));
    }
}

/// <summary>Reads access logs, any number of files and standard input, in either of the proxy's formats.</summary>
internal static class TrafficLog
{
    /// <summary>Fails with a message when a log cannot be opened; checked for every log before any is read.</summary>
    public static string? CheckReadable(IReadOnlyList<string> logs)
    {
        ArgumentNullException.ThrowIfNull(logs);
        foreach (var log in logs)
        {
            if (log != "-" && !File.Exists(log))
            {
                return $"the access log '{Path.GetFullPath(log)}' does not exist. Check the path given to --from.";
            }
        }

        return null;
    }

    /// <summary>
    /// Every request in <paramref name="logs"/> at or after <paramref name="since"/>, in file order. Blank lines are
    /// skipped; malformed ones are counted into <paramref name="summary"/>, never thrown.
    /// </summary>
    public static IEnumerable<LoggedRequest> Read(IReadOnlyList<string> logs, TextReader standardInput, DateTimeOffset? since, TrafficSummary summary)
    {
        ArgumentNullException.ThrowIfNull(logs);
        ArgumentNullException.ThrowIfNull(summary);
        foreach (var log in logs)
        {
            using var reader = log == "-" ? null : Open(log);
            var source = log == "-" ? "standard input" : $"'{log}'";
            var lineNumber = 0;
            var malformed = 0;
            var firstMalformed = 0;
            string? firstError = null;
            string? line;
            while ((line = (reader ?? standardInput).ReadLine()) is not null)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                if (!AccessLogReader.TryParse(line, out var request, out var error))
                {
                    if (malformed++ == 0)
                    {
                        firstMalformed = lineNumber;
                        firstError = error;
                    }

                    continue;
                }

                summary.Lines++;
                if (since is { } start && request.Time < start)
                {
                    summary.BeforeSince++;
                    continue;
                }

                yield return request;
            }

            if (malformed > 0)
            {
                summary.AddMalformed(source, malformed, firstMalformed, firstError!);
            }
        }
    }

    private static StreamReader Open(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        return new StreamReader(stream, Encoding.UTF8);
    }
}
