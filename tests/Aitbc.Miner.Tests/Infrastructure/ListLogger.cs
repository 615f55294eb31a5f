using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>A logger that keeps what it is told, for tests that check what reaches the operator's log.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}
