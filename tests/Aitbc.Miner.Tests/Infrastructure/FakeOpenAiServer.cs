using Aitbc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>
/// An OpenAI-compatible server as vLLM and llama.cpp's server answer: <c>/v1/chat/completions</c> (not streamed),
/// <c>/v1/models</c>, and errors as <c>{"error":{"message":…}}</c> with 404 for an unknown model.
/// </summary>
public sealed class FakeOpenAiServer : FakeServer
{
    public const int PromptTokens = 12;
    public const string Answer = "The sky scatters blue light.";
    public const string ServerErrorMessage = "CUDA out of memory. Tried to allocate 2.00 GiB";

    /// <summary>How long each completion takes on the fake clock: the compute time the backend must measure.</summary>
    public static readonly TimeSpan ComputeTime = TimeSpan.FromMilliseconds(1500);

    private readonly FakeTimeProvider _time;

    private FakeOpenAiServer(FakeTimeProvider time) => _time = time;

    public IReadOnlyList<string> Models { get; set; } = ["Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.2-1B"];

    public static async Task<FakeOpenAiServer> StartNewAsync(FakeTimeProvider time)
    {
        var server = new FakeOpenAiServer(time);
        await server.ListenAsync(CancellationToken.None);
        return server;
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/v1/chat/completions", CompleteAsync);
        app.MapGet("/v1/models", context =>
        {
            Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
            return WriteJsonAsync(context, 200, new
            {
                @object = "list",
                data = Models.Select(id => new { id, @object = "model", created = 1_700_000_000, owned_by = "vllm" }),
            });
        });
    }

    private async Task CompleteAsync(HttpContext context)
    {
        var body = await ReceiveAsync(context);
        var model = body.GetProperty("model").GetString()!;
        if (!Models.Contains(model))
        {
            await WriteJsonAsync(context, 404, Error($"The model `{model}` does not exist.", "NotFoundError", 404));
            return;
        }
        switch (Fault)
        {
            case BackendFault.ServerError:
            case BackendFault.MidStreamError:
                await WriteJsonAsync(context, 500, Error(ServerErrorMessage, "InternalServerError", 500));
                return;
            case BackendFault.Stall:
            case BackendFault.Hang:
                await StallAsync(context);
                return;
            case BackendFault.Disconnect:
                context.Abort();
                return;
            case BackendFault.Truncate:
                await WriteJsonAsync(context, 200, new { id = "chatcmpl-7f3a", @object = "chat.completion", choices = Array.Empty<object>() });
                return;
            case BackendFault.Garbage:
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<html>proxy error</html>");
                return;
        }

        _time.Advance(ComputeTime);
        var words = Answer.Split(' ');
        var completionTokens = body.TryGetProperty("max_tokens", out var max) ? Math.Min(max.GetInt32(), words.Length) : words.Length;
        await WriteJsonAsync(context, 200, new
        {
            id = "chatcmpl-7f3a",
            @object = "chat.completion",
            created = 1_764_320_000,
            model,
            choices = new[]
            {
                new
                {
                    index = 0,
                    message = new { role = "assistant", content = string.Join(' ', words.Take(completionTokens)) },
                    finish_reason = "stop",
                },
            },
            usage = new { prompt_tokens = PromptTokens, completion_tokens = completionTokens, total_tokens = PromptTokens + completionTokens },
        });
    }

    private static object Error(string message, string type, int code) =>
        new { error = new { message, type, param = (string?)null, code } };
}
