using System.Text.Json;
using Aitbc.Cli.Infrastructure;

namespace Aitbc.Cli.Wallets;

/// <summary>The wallet files under <c>&lt;home&gt;/wallets</c>: one <c>&lt;name&gt;.json</c> each, readable by the owner only.</summary>
public sealed class WalletStore(string directory)
{
    private static readonly JsonSerializerOptions FileJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public string Directory { get; } = directory;

    public string PathOf(string name) => Path.Combine(Directory, name + ".json");

    public bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>Wallet names are file names, so only letters, digits, '-' and '_' (no path tricks).</summary>
    public static string CheckName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? name
            : throw new CliUsageException($"wallet name '{name}' is not allowed; use letters, digits, '-' or '_' (at most 64)");

    public void Save(KeystoreFile file)
    {
        var path = PathOf(CheckName(file.Name));
        if (File.Exists(path))
        {
            throw new CliUsageException($"wallet '{file.Name}' already exists at {path}; pick another name or delete that file first");
        }
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(Directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created 0600 from the first byte, rather than chmod'ed after a window in which others could read it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        JsonSerializer.Serialize(stream, file, FileJson);
    }

    public KeystoreFile Load(string name)
    {
        var path = PathOf(CheckName(name));
        if (!File.Exists(path))
        {
            throw new CliUsageException($"no wallet named '{name}' in {Directory}; create one with 'aitbc wallet create {name}' or list them with 'aitbc wallet list'");
        }
        try
        {
            return JsonSerializer.Deserialize<KeystoreFile>(File.ReadAllText(path), FileJson)
                ?? throw new CliUsageException($"wallet file {path} is empty");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"wallet file {path} is not a keystore ({e.Message})");
        }
    }

    public IReadOnlyList<KeystoreFile> List() =>
        System.IO.Directory.Exists(Directory)
            ? [.. System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal).Select(p => Load(Path.GetFileNameWithoutExtension(p)))]
            : [];
}
