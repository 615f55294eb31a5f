namespace Aitbc.Testing;

/// <summary>Waits for something a node or a worker reaches on its own (a block, a delivered outbox row), with a deadline.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"condition not met within {timeoutMs} ms");
            }
            await Task.Delay(20);
        }
    }
}
