using System.Text.Json;
using Aitbc.Client.Http;

namespace Aitbc.Devnet;

/// <summary>
/// What a devnet remembers between runs (<c>devnet.json</c>, 0600): the chain id, the API keys it made, and who is
/// who. Keys themselves live in <c>keys/</c> as key files; the node and coordinator keep their own data.
/// </summary>
public sealed record DevnetState(string ChainId, string AdminKey, string ClientAddress, string? ClientApiKey, IReadOnlyList<DevnetMiner> Miners, string CreatedAt)
{
    public static DevnetState? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<DevnetState>(File.ReadAllBytes(path), RestJson.Options)
                ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a devnet state file ({e.Message}); move the data directory aside to start afresh", e);
        }
    }

    public void Save(string path) => SecretFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, new JsonSerializerOptions(RestJson.Options) { WriteIndented = true }));
}
