using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EgressLab.ProxyInstance.Tests.TestHost;

/// <summary>
/// Captures the proxy's operational log (what goes to standard error), with each entry's category, level and
/// exception, so a test can show that Kestrel reported no unhandled exception for a connection.
/// </summary>
internal sealed class OperationalLog : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries;

    /// <summary>Errors Kestrel logged: an application or connection middleware exception that escaped to it.</summary>
    public IEnumerable<Entry> KestrelErrors => _entries.Where(e =>
        e.Level >= LogLevel.Error && e.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}[{EventId.Id}]: {Message} {Exception}";
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
