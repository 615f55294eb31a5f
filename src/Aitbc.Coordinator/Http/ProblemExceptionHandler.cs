using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Http;

/// <summary>
/// Turns exceptions into problem bodies: a malformed request (Kestrel's or the binder's BadHttpRequestException: bad
/// JSON, wrong types, a body over the limit) keeps its 4xx; anything else is a bug, logged and answered 500.
/// </summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>The status logged for a request whose client went away before it was answered (nginx's 499).</summary>
    public const int ClientClosedRequest = 499;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string detail;
        if (exception is BadHttpRequestException bad)
        {
            status = bad.StatusCode;
            detail = status == StatusCodes.Status413PayloadTooLarge ? "the request body is larger than the coordinator accepts" : bad.Message;
        }
        else if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody reads this answer.
            status = ClientClosedRequest;
            detail = "request aborted";
        }
        else
        {
            logger.LogError(exception, "unhandled error in {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            status = StatusCodes.Status500InternalServerError;
            detail = "an internal error occurred; it has been logged";
        }
        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = status >= 500 ? "Internal Server Error" : "Bad Request", Detail = detail },
        }).ConfigureAwait(false);
    }
}
