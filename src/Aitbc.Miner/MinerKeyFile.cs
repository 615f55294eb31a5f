using Aitbc.Core.Crypto;

namespace Aitbc.Miner;

/// <summary>The miner's key on disk, in the shared <see cref="KeyFileFormat"/>, created with 0600 permissions on first start.</summary>
public static class MinerKeyFile
{
    /// <summary>Loads the key at <paramref name="path"/>, or creates it there (0600) when missing. The caller disposes it.</summary>
    public static Ed25519KeyPair LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return KeyFileFormat.Parse(File.ReadAllBytes(path), path);
        }
        var key = Ed25519KeyPair.Generate();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        stream.Write(KeyFileFormat.Serialize(key));
        return key;
    }
}
