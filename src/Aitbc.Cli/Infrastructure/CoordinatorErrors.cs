using System.Globalization;
using System.Net;
using Aitbc.Client.Rest;

namespace Aitbc.Cli.Infrastructure;

/// <summary>Turns a coordinator failure into an exit code and one line that says what to do next.</summary>
internal static class CoordinatorErrors
{
    public const string ClientKeyHint =
        "pass --api-key or set CLIENT_API_KEY to a client key (an admin makes one with 'aitbc admin keys create --role client --address aitbc1...')";

    public const string AdminKeyHint = "pass --api-key or set AITBC_ADMIN_KEY (or ADMIN_API_KEY) to the coordinator's admin key";

    public static (int Code, string Message) Describe(RestClientException e, CliContext? context)
    {
        var hint = context?.CoordinatorKey == CoordinatorKeyKind.Admin ? AdminKeyHint : ClientKeyHint;
        switch (e)
        {
            case RestUnavailableException u:
                var attempts = u.Attempts == 1 ? "1 attempt" : $"{u.Attempts} attempts";
                return (ExitCodes.Unreachable,
                    $"cannot reach the coordinator at {u.Url.GetLeftPart(UriPartial.Authority)} after {attempts}: {u.LastError}; is it running? Start one with 'aitbc up', or point --url / AITBC_URL at yours");
            case RestApiException { StatusCode: HttpStatusCode.Unauthorized } a:
                var missing = context?.CoordinatorKeyMissing == true ? "no key is set" : "the key was not accepted";
                return (ExitCodes.AuthRefused, $"the coordinator refused the request (HTTP 401: {a.Message}): {missing}; {hint}");
            case RestApiException { StatusCode: HttpStatusCode.Forbidden } a:
                return (ExitCodes.AuthRefused, $"the coordinator refused the request (HTTP 403: {a.Message}): this key may not do that; {hint}");
            case RestApiException { StatusCode: HttpStatusCode.TooManyRequests } a:
                var wait = a.RetryAfter is { } after ? $"try again in {Math.Max(1, Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture)} s" : "try again shortly";
                return (ExitCodes.ServerRefused, $"the coordinator is rate limiting this key (HTTP 429: {a.Message}); {wait}");
            case RestApiException { StatusCode: >= HttpStatusCode.InternalServerError } a:
                return (ExitCodes.Unreachable, $"the coordinator at {a.Url.GetLeftPart(UriPartial.Authority)} kept failing (HTTP {(int)a.StatusCode}: {a.Message}); try again later or check its log");
            case RestApiException a:
                return (ExitCodes.ServerRefused, $"the coordinator refused the request (HTTP {(int)a.StatusCode}): {a.Message}{Next(a.StatusCode)}");
            case RestProtocolException p:
                return (ExitCodes.ServerRefused, $"{p.Message}; check that --url / AITBC_URL points at an aitbc coordinator");
            default:
                return (ExitCodes.ServerRefused, e.Message);
        }
    }

    private static string Next(HttpStatusCode status) => status switch
    {
        HttpStatusCode.PaymentRequired => "; fund the wallet ('aitbc wallet balance') and approve the coordinator to spend the budget ('aitbc wallet approve')",
        HttpStatusCode.NotFound => "; check the id ('aitbc jobs list')",
        _ => "",
    };
}
