namespace Aitbc.Client.Tests.Infrastructure;

/// <summary>Waits for a condition the node reaches on its own (a block being made), with a deadline.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeoutMs} ms");
            await Task.Delay(20);
        }
    }
}
