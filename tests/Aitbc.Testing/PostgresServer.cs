using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Aitbc.Testing;

/// <summary>
/// A throwaway PostgreSQL server: <c>initdb</c> in a temp dir (as the postgres user when the tests run as root, since
/// initdb refuses root), started with <c>pg_ctl</c> on a free loopback port with fsync off, stopped and deleted on
/// dispose. Each test class asks it for a fresh database with <see cref="CreateDatabaseAsync"/>. When the PostgreSQL
/// binaries are missing it throws, naming what to install: the PostgreSQL tests fail, they never pass silently.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string User = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _binDir;
    private readonly string _root;
    private readonly bool _asPostgresUser;
    private int _databases;

    private PostgresServer(string binDir, string root, bool asPostgresUser)
    {
        _binDir = binDir;
        _root = root;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; private set; }

    private string DataDir => Path.Combine(_root, "data");

    /// <summary>initdb and start a server; about 1.5 s.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var binDir = FindBinDir() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in $AITBC_POSTGRES_BIN, on PATH, in /usr/local/bin, /usr/local/pgsql/bin or /usr/lib/postgresql/*/bin: "
            + "install PostgreSQL (scripts/test.sh does: apt-get install -y postgresql) to run the PostgreSQL tests");
        var asPostgresUser = Environment.UserName == "root";
        var root = TempDir.Create("postgres");
        Directory.CreateDirectory(root);
        if (asPostgresUser)
        {
            await RunAsync("chown", [User, root], asUser: null).ConfigureAwait(false);
        }
        var server = new PostgresServer(binDir, root, asPostgresUser);
        try
        {
            await server.RunToolAsync("initdb", ["-D", server.DataDir, "-U", User, "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]).ConfigureAwait(false);
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort();
                var settings = $"-c listen_addresses=127.0.0.1 -p {server.Port} -c unix_socket_directories={root} -c fsync=off -c synchronous_commit=off "
                    + "-c full_page_writes=off -c max_connections=300";
                try
                {
                    await server.RunToolAsync("pg_ctl", ["-D", server.DataDir, "-l", Path.Combine(root, "server.log"), "-w", "-t", "30", "-o", settings, "start"]).ConfigureAwait(false);
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    // Most likely another process took the free port between our probe and the server's bind: another port.
                }
            }
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A connection string to database <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Database = database, Username = User, Timeout = 15 }.ConnectionString;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string label)
    {
        var name = $"{new string(label.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray())}_{Interlocked.Increment(ref _databases)}";
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{name}\"";
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDir, "postmaster.pid")))
        {
            try
            {
                await RunToolAsync("pg_ctl", ["-D", DataDir, "-m", "immediate", "-w", "stop"]).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone; the directory goes anyway.
            }
        }
        TempDir.Delete(_root);
    }

    private Task RunToolAsync(string tool, IReadOnlyList<string> arguments) =>
        RunAsync(Path.Combine(_binDir, tool), arguments, _asPostgresUser ? User : null);

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, string? asUser)
    {
        var start = new ProcessStartInfo(asUser is null ? program : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUser is not null)
        {
            foreach (var argument in (string[])["-u", asUser, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} did not finish within {CommandTimeout.TotalSeconds} s");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr.ConfigureAwait(false)} {await stdout.ConfigureAwait(false)}");
        }
    }

    /// <summary>
    /// The directory holding initdb and pg_ctl: <c>$AITBC_POSTGRES_BIN</c> alone when set, else PATH, then where source
    /// builds and Debian's packages put them (newest version first).
    /// </summary>
    public static string? FindBinDir()
    {
        IEnumerable<string> candidates = Environment.GetEnvironmentVariable("AITBC_POSTGRES_BIN") is { Length: > 0 } only
            ? [only]
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(["/usr/local/bin", "/usr/local/pgsql/bin"])
                .Concat(Directory.Exists("/usr/lib/postgresql")
                    ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(VersionOf).Select(d => Path.Combine(d, "bin"))
                    : []);
        return candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static int VersionOf(string dir) => int.TryParse(Path.GetFileName(dir), out var version) ? version : 0;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
