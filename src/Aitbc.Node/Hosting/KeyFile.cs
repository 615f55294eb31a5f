using Aitbc.Core.Crypto;

namespace Aitbc.Node;

/// <summary>A key on disk in <see cref="KeyFileFormat"/>, readable by the owner only (0600).</summary>
public static class KeyFile
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

    public static Ed25519KeyPair Load(string path) => KeyFileFormat.Parse(File.ReadAllBytes(path), path);

    public static void Save(string path, Ed25519KeyPair key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
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
        stream.Write(KeyFileFormat.Serialize(key));
    }
}
