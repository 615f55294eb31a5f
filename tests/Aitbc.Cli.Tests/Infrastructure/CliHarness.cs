using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Aitbc.Client.Http;

namespace Aitbc.Cli.Tests.Infrastructure;

/// <summary>What one in-process run of <c>aitbc</c> produced.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json() => JsonDocument.Parse(Stdout).RootElement.Clone();

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the real <see cref="CliApp"/> in-process with its own temp home (wallets, config), cheap Argon2id and quick
/// retries, pointed at <paramref name="nodeUrl"/>.
/// </summary>
public sealed class CliHarness : IDisposable
{
    public const string Password = "correct horse battery staple";

    public CliHarness(Uri? nodeUrl, Uri? coordinatorUrl = null, string? apiKey = null)
    {
        Home = Path.Combine(Path.GetTempPath(), "aitbc-cli-home-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Home);
        Env = new Hashtable
        {
            ["AITBC_HOME"] = Home,
            ["AITBC_KDF_MEMORY_KIB"] = "64",
            ["AITBC_KDF_ITERATIONS"] = "1",
            ["AITBC_RETRY_DELAY_MS"] = "1",
            ["AITBC_WALLET_PASSWORD"] = Password,
        };
        if (nodeUrl is not null)
        {
            Env["AITBC_NODE_URL"] = nodeUrl.ToString();
        }
        if (coordinatorUrl is not null)
        {
            Env["AITBC_URL"] = coordinatorUrl.ToString();
        }
        if (apiKey is not null)
        {
            Env["CLIENT_API_KEY"] = apiKey;
        }
    }

    /// <summary>Quick retries, and a short cap on Retry-After, so retry tests take milliseconds.</summary>
    public RetryOptions Retry { get; set; } = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
        MaxRetryAfter = TimeSpan.FromMilliseconds(5),
    };

    public string Home { get; }

    public Hashtable Env { get; }

    public async Task<CliResult> RunAsync(params string[] args) => await RunWithInputAsync(null, args);

    public async Task<CliResult> RunWithInputAsync(string? stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr, Env, stdin is null ? null : new StringReader(stdin), retry: Retry);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes <paramref name="text"/> to a file in the home and returns its path.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Home, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A localhost port nothing listens on: bound by the OS, then released.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the system cleans its temp folder in time.
        }
    }
}
