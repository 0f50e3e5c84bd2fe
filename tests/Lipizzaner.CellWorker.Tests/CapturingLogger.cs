using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Lipizzaner.CellWorker.Tests;

/// <summary>Keeps every log entry (message and exception text) so tests can assert on what was logged.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public string AllText => string.Join(Environment.NewLine, _entries);

    /// <summary>The last <paramref name="count"/> entries, for failure messages.</summary>
    public string Tail(int count) => string.Join(Environment.NewLine, _entries.TakeLast(count));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string text = $"{logLevel}: {formatter(state, exception)}";
        if (state is IEnumerable<KeyValuePair<string, object?>> properties)
        {
            text += " {" + string.Join(", ", properties.Select(pair => $"{pair.Key}={pair.Value}")) + "}";
        }

        if (exception is not null)
        {
            text += Environment.NewLine + exception;
        }

        _entries.Enqueue(text);
    }
}
