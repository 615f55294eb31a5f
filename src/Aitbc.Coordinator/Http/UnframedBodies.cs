using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Http;

/// <summary>
/// Reads a body that has no Content-Length (chunked) whole, up to Kestrel's MaxRequestBodySize, before the endpoint
/// parses it, so that such a body over the limit is always 413.
/// </summary>
/// <remarks>
/// With a Content-Length Kestrel refuses an oversized body on the first read, before any byte reaches a parser. Without
/// one it can only count bytes as they are read, and a JSON reader parses each read as it comes: when the first reads
/// hold less than the limit and the body already breaks the contract there (an unknown member such as
/// <c>"padding"</c>, a syntax error), the parser refuses it with 400 before the limit is reached, and which answer a
/// client got depended on how much of its body had arrived when the endpoint began to read.
/// </remarks>
public static class UnframedBodies
{
    /// <summary>The middleware; after the API key check (a caller without a valid key must not get its body read), before the endpoint runs.</summary>
    public static IApplicationBuilder UseUnframedBodies(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.GetEndpoint() is null || http.Request.ContentLength is not null || http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            await next(http).ConfigureAwait(false);
            return;
        }
        var body = new MemoryStream();
        http.Response.RegisterForDispose(body);
        try
        {
            // Kestrel counts the bytes as this reads and throws once they pass the limit: nothing over it is buffered.
            await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = http.RequestServices.GetRequiredService<CoordinatorOptions>().MaxRequestBodyBytes;
            await Problems.PayloadTooLarge($"the body is larger than {limit} bytes").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }
        catch (IOException e) when (e is not BadHttpRequestException)
        {
            // The connection broke mid-body (the client went away); as the ProblemExceptionHandler does, nobody reads an answer.
            http.Response.StatusCode = ProblemExceptionHandler.ClientClosedRequest;
            return;
        }
        body.Position = 0;
        http.Request.Body = body;
        await next(http).ConfigureAwait(false);
    });
}
