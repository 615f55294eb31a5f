using System.Text.Json;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Node;

/// <summary>A key on disk: its seed in base64 with its public key and address beside it, readable by the owner only (0600).</summary>
public sealed record KeyFile(string Address, string PubKey, string PrivKey)
{
    public static Ed25519KeyPair LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }
        var key = Ed25519KeyPair.Generate();
        Save(path, key);
        return key;
    }

    public static Ed25519KeyPair Load(string path)
    {
        var file = JsonSerializer.Deserialize<KeyFile>(File.ReadAllBytes(path), WireJson.Options)
            ?? throw new InvalidDataException($"{path} is empty");
        var key = Ed25519KeyPair.FromSeed(Convert.FromBase64String(file.PrivKey));
        if (key.PublicKey.Base64 != file.PubKey)
        {
            throw new InvalidDataException($"{path}: priv_key does not match pub_key");
        }
        return key;
    }

    public static void Save(string path, Ed25519KeyPair key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = new KeyFile(key.Address.Value, key.PublicKey.Base64, Convert.ToBase64String(key.ExportSeed()));
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        JsonSerializer.Serialize(stream, file, WireJson.Options);
    }
}
