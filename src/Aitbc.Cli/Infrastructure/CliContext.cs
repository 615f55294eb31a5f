using System.Text.Json;
using System.Text.Json.Serialization;
using Aitbc.Client.Node;
using Spectre.Console;

namespace Aitbc.Cli.Infrastructure;

/// <summary>What a running command gets: its settings, where to write, and how to reach the node.</summary>
public sealed class CliContext(CliSettings settings, IAnsiConsole console, TextWriter stdout, TextReader stdin, bool interactive)
{
    /// <summary>Stable JSON for scripts: snake_case names, amounts already rendered as AITBC strings by the callers.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Output is read by scripts and people, not embedded in HTML: keep '+' in base64 as '+'.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public CliSettings Settings { get; } = settings;

    public IAnsiConsole Console { get; } = console;

    public TextReader Stdin { get; } = stdin;

    /// <summary>Whether a person is at a terminal, so a password may be asked for.</summary>
    public bool Interactive { get; } = interactive;

    /// <summary>AITBC_WALLET_PASSWORD, kept apart from the settings so that it is never printed with them.</summary>
    public string? PasswordFromEnvironment { get; init; }

    public bool IsJson => Settings.Output == OutputFormat.Json;

    public NodeClient CreateNodeClient() => NodeClient.Create(Settings.NodeUrl, Settings.Retry);

    /// <summary>Writes <paramref name="value"/> as JSON in json mode, or runs <paramref name="text"/> in text mode.</summary>
    public void Write<T>(T value, Action<IAnsiConsole> text)
    {
        if (IsJson)
        {
            // Straight to the writer, not through Spectre, so no wrapping or markup touches the JSON.
            stdout.WriteLine(JsonSerializer.Serialize(value, Json));
        }
        else
        {
            text(Console);
        }
    }

    /// <summary>Key/value lines with aligned labels: the text form of a single record.</summary>
    public static void WriteFields(IAnsiConsole console, params (string Label, string? Value)[] fields)
    {
        var width = fields.Max(f => f.Label.Length) + 2;
        foreach (var (label, value) in fields)
        {
            console.WriteLine((label + ":").PadRight(width) + (value ?? "-"));
        }
    }
}
