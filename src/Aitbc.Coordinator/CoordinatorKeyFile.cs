using System.Text.Json;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Coordinator;

/// <summary>The coordinator's key on disk, in the node's key-file format (<c>{address, pub_key, priv_key}</c>, 0600), so either tool's keygen serves.</summary>
internal sealed record CoordinatorKeyFile(string Address, string PubKey, string PrivKey)
{
    public static Ed25519KeyPair LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var file = JsonSerializer.Deserialize<CoordinatorKeyFile>(File.ReadAllBytes(path), WireJson.Options)
                ?? throw new InvalidDataException($"{path} is empty");
            var loaded = Ed25519KeyPair.FromSeed(Convert.FromBase64String(file.PrivKey));
            if (loaded.PublicKey.Base64 != file.PubKey)
            {
                loaded.Dispose();
                throw new InvalidDataException($"{path}: priv_key does not match pub_key");
            }
            return loaded;
        }
        var key = Ed25519KeyPair.Generate();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        JsonSerializer.Serialize(stream, new CoordinatorKeyFile(key.Address.Value, key.PublicKey.Base64, Convert.ToBase64String(key.ExportSeed())), WireJson.Options);
        return key;
    }
}
