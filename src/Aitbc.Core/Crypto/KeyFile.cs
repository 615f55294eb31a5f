namespace Aitbc.Core.Crypto;

/// <summary>
/// A service's key on disk in <see cref="KeyFileFormat"/>, created readable by its owner only (0600) from the first
/// byte. With a passphrase (<see cref="PassphraseVariable"/> or a file named by <see cref="PassphraseFileVariable"/>)
/// new keys are written sealed and sealed keys can be read; without one, keys are written in clear and a sealed key
/// refuses to load, naming the variable to set.
/// </summary>
public static class KeyFile
{
    public const string PassphraseVariable = "AITBC_KEY_PASSPHRASE";
    public const string PassphraseFileVariable = "AITBC_KEY_PASSPHRASE_FILE";

    /// <summary>The passphrase from the environment: the variable itself, or the first line of the file it names; else null.</summary>
    public static string? PassphraseFromEnvironment()
    {
        if (Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } passphrase)
        {
            return passphrase;
        }
        if (Environment.GetEnvironmentVariable(PassphraseFileVariable) is { Length: > 0 } path)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{PassphraseFileVariable} names {path}, which does not exist", path);
            }
            return File.ReadLines(path).FirstOrDefault() is { Length: > 0 } line
                ? line
                : throw new InvalidDataException($"the passphrase file {path} ({PassphraseFileVariable}) is empty");
        }
        return null;
    }

    /// <summary>Loads the key at <paramref name="path"/>, or creates it there when missing. The caller disposes it.</summary>
    public static Ed25519KeyPair LoadOrCreate(string path) => LoadOrCreate(path, PassphraseFromEnvironment());

    public static Ed25519KeyPair LoadOrCreate(string path, string? passphrase)
    {
        if (File.Exists(path))
        {
            return Load(path, passphrase);
        }
        var key = Ed25519KeyPair.Generate();
        Save(path, key, passphrase);
        return key;
    }

    public static Ed25519KeyPair Load(string path) => Load(path, PassphraseFromEnvironment());

    public static Ed25519KeyPair Load(string path, string? passphrase) => KeyFileFormat.Parse(File.ReadAllBytes(path), path, passphrase);

    /// <summary>Writes a new key file (never over an existing one), sealed when <paramref name="passphrase"/> is given.</summary>
    public static void Save(string path, Ed25519KeyPair key, string? passphrase = null, KdfParameters? kdf = null)
    {
        var bytes = passphrase is null ? KeyFileFormat.Serialize(key) : KeyFileFormat.Serialize(key, passphrase, kdf);
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        stream.Write(bytes);
    }
}
