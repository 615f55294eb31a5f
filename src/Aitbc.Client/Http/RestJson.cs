using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Client.Http;

/// <summary>
/// Serializer settings for the REST contracts (coordinator and miner): snake_case, nulls left out. Reading is lenient
/// about unknown members so a newer server does not break an older client; servers validate what they accept.
/// </summary>
public static class RestJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            NumberHandling = JsonNumberHandling.Strict,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
