using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aitbc.Coordinator.Http;

/// <summary>RFC 9457 problem bodies (application/problem+json) for every refusal the coordinator gives.</summary>
public static class Problems
{
    public static ProblemHttpResult Unauthorized(string detail) => Make(StatusCodes.Status401Unauthorized, "Unauthorized", detail);

    public static ProblemHttpResult Forbidden(string detail) => Make(StatusCodes.Status403Forbidden, "Forbidden", detail);

    public static ProblemHttpResult NotFound(string detail) => Make(StatusCodes.Status404NotFound, "Not Found", detail);

    public static ProblemHttpResult Conflict(string detail) => Make(StatusCodes.Status409Conflict, "Conflict", detail);

    public static ProblemHttpResult BadRequest(string detail) => Make(StatusCodes.Status400BadRequest, "Bad Request", detail);

    public static ProblemHttpResult PayloadTooLarge(string detail) => Make(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", detail);

    public static ProblemHttpResult UnsupportedMediaType(string detail) => Make(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", detail);

    public static ProblemHttpResult Unprocessable(string detail) => Make(StatusCodes.Status422UnprocessableEntity, "Unprocessable Content", detail);

    public static ProblemHttpResult PaymentRequired(string detail) => Make(StatusCodes.Status402PaymentRequired, "Payment Required", detail);

    public static ProblemHttpResult BadGateway(string detail) => Make(StatusCodes.Status502BadGateway, "Bad Gateway", detail);

    public static ProblemHttpResult TooManyRequests(string detail) => Make(StatusCodes.Status429TooManyRequests, "Too Many Requests", detail);

    public static ProblemHttpResult Unavailable(string detail) => Make(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", detail);

    /// <summary>400 naming each bad field in <c>errors</c>, keyed by its JSON path (e.g. <c>options.temperature</c>).</summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: $"invalid field{(errors.Count == 1 ? "" : "s")}: {string.Join(", ", errors.Keys)}", title: "Invalid request");

    private static ProblemHttpResult Make(int status, string title, string detail) => TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
