using System.Text.Json;
using Aitbc.Client.Http;

namespace Aitbc.Cli.Devnet;

/// <summary>One devnet miner's identity: its API key (the secret) and the address its key file gives.</summary>
public sealed record DevnetMiner(int Index, string Address, string ApiKey);

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

/// <summary>Files that hold secrets: written whole (to a temp file, then renamed) and readable by the owner only.</summary>
internal static class SecretFile
{
    public static void Write(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
