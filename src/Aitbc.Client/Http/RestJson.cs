using System.Text.Json;
using Aitbc.Contracts;

namespace Aitbc.Client.Http;

/// <summary>
/// Serializer settings for the REST contracts (coordinator and miner): the contracts' client options,
/// <see cref="ContractJson.Client"/> — snake_case, nulls left out, lenient about unknown members so a newer server
/// does not break an older client; servers validate what they accept.
/// </summary>
public static class RestJson
{
    public static JsonSerializerOptions Options => ContractJson.Client;
}
