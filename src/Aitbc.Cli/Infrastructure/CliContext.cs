using System.Text.Json;
using System.Text.Json.Serialization;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Net;
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

    public NodeClient CreateNodeClient() => NodeClient.Create(Settings.NodeUrl, Settings.Retry, transport: Tls.CreateClientHandler(Settings.CaCertificatePath));

    /// <summary>Which key the last coordinator client was made with, so a 401/403 can say which setting to fix.</summary>
    public CoordinatorKeyKind? CoordinatorKey { get; private set; }

    /// <summary>Whether that key was configured at all.</summary>
    public bool CoordinatorKeyMissing { get; private set; }

    /// <summary>A coordinator client sending the client key (or, for <see cref="CoordinatorKeyKind.Admin"/>, the admin key).</summary>
    public CoordinatorClient CreateCoordinatorClient(CoordinatorKeyKind kind = CoordinatorKeyKind.Client)
    {
        var key = kind == CoordinatorKeyKind.Admin ? Settings.AdminKey : Settings.ApiKey;
        CoordinatorKey = kind;
        CoordinatorKeyMissing = key is null;
        return CoordinatorClient.Create(Settings.CoordinatorUrl, key, Settings.Retry, transport: Tls.CreateClientHandler(Settings.CaCertificatePath));
    }

    /// <summary>
    /// Runs <paramref name="work"/> under a spinner whose text it may update, only for a person at a terminal
    /// reading text: scripts and tests see nothing but the final output.
    /// </summary>
    public async Task<T> WithSpinnerAsync<T>(string initial, Func<Action<string>, Task<T>> work)
    {
        if (!Interactive || IsJson)
        {
            return await work(_ => { }).ConfigureAwait(false);
        }
        return await Console.Status().Spinner(Spinner.Known.Dots).StartAsync(initial, status => work(text => status.Status(Markup.Escape(text)))).ConfigureAwait(false);
    }

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

/// <summary>The two keys the CLI sends to the coordinator.</summary>
public enum CoordinatorKeyKind
{
    Client,
    Admin,
}
