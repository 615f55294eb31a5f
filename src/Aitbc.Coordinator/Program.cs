using System.CommandLine;
using Aitbc.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Net;

var port = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => CoordinatorOptions.DefaultPort };
var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
var dataDir = new Option<string>("--data-dir")
{
    Description = "Coordinator home: config/ (coordinator key), data/ (coordinator.db), logs/",
    DefaultValueFactory = _ => new CoordinatorOptions().DataDirectory,
};
var node = new Option<Uri>("--node")
{
    Description = "The node's RPC URL",
    DefaultValueFactory = _ => new CoordinatorOptions().NodeUrl,
    // System.CommandLine 2.0 has no built-in parser for Uri.
    CustomParser = result =>
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }
        result.AddError($"--node must be the node's http(s) RPC URL, e.g. http://127.0.0.1:8006 (got '{text}')");
        return null!;
    },
};
var database = new Option<string?>("--database")
{
    Description = "PostgreSQL connection string (Host=…;Database=…;Username=… or postgres://user@host/db; default $AITBC_COORDINATOR_DATABASE, else SQLite in <data-dir>/data/coordinator.db)",
};
var coordinatorKey = new Option<string?>("--coordinator-key") { Description = "Key file of the coordinator named in genesis (default <data-dir>/config/coordinator_key.json, created when missing)" };
var adminKey = new Option<string?>("--admin-key") { Description = "Bootstrap admin API key (at least 16 characters; default $AITBC_ADMIN_KEY, which is better: a command line shows in the process list)" };
var queueTimeout = new Option<int?>("--queue-timeout") { Description = "Seconds a job may wait for a miner before it fails and is refunded (default 60)" };
var heartbeat = new Option<int?>("--heartbeat-interval") { Description = "Seconds between miner heartbeats; 3 missed make a miner offline (default 5)" };
var rateLimit = new Option<int?>("--rate-limit") { Description = "Requests per second per authenticated API key, and per remote address for requests without one (default 2000; bursts of twice that)" };
var resendAfter = new Option<int?>("--resend-after") { Description = "Seconds a sent chain transaction may stay out of a block before it is broadcast again (default 30)" };
var dev = new Option<bool>("--allow-private-miner-endpoints", "--dev")
{
    Description = "Development mode: accept miner endpoints on loopback, private and link-local addresses (aitbc up uses it; "
        + "or $AITBC_ALLOW_PRIVATE_MINER_ENDPOINTS=true); only where every miner key is trusted not to point the coordinator at its own network",
};
var logDir = new Option<string?>("--log-dir") { Description = "Directory for coordinator.log (default /var/log/aitbc when writable, else <data-dir>/logs)" };

var tlsCert = new Option<string?>("--tls-cert") { Description = $"Serve HTTPS with this certificate: PEM (with --tls-key) or .pfx ({TlsServerSettings.CertificateVariable})" };
var tlsKey = new Option<string?>("--tls-key") { Description = $"PEM private key of --tls-cert ({TlsServerSettings.KeyVariable})" };
var start = new Command("start", "Run the coordinator's REST API") { port, host, dataDir, node, database, coordinatorKey, adminKey, logDir, queueTimeout, heartbeat, rateLimit, resendAfter, dev, tlsCert, tlsKey };
start.SetAction(async (parse, cancellationToken) =>
{
    var options = new CoordinatorOptions
    {
        Port = parse.GetValue(port),
        Host = parse.GetValue(host)!,
        DataDirectory = parse.GetValue(dataDir)!,
        NodeUrl = parse.GetValue(node)!,
        // A password in the connection string shows in the process list on the command line; the environment variable does not.
        Database = parse.GetValue(database) ?? NullIfEmpty(Environment.GetEnvironmentVariable("AITBC_COORDINATOR_DATABASE")),
        CoordinatorKeyPath = parse.GetValue(coordinatorKey),
        // An admin key on the command line shows in the process list; the environment variable does not.
        AdminKey = parse.GetValue(adminKey) ?? Environment.GetEnvironmentVariable("AITBC_ADMIN_KEY"),
        LogDirectory = parse.GetValue(logDir) ?? SharedLogDirectory.IfWritable(),
        Tls = TlsServerSettings.From(parse.GetValue(tlsCert), parse.GetValue(tlsKey)),
        // A unit file sets options by environment: AITBC_ALLOW_PRIVATE_MINER_ENDPOINTS=true is --dev there.
        AllowPrivateMinerEndpoints = parse.GetValue(dev)
            || string.Equals(Environment.GetEnvironmentVariable("AITBC_ALLOW_PRIVATE_MINER_ENDPOINTS"), "true", StringComparison.OrdinalIgnoreCase),
    };
    if (parse.GetValue(queueTimeout) is { } queueSeconds)
    {
        options = options with { QueueTimeout = TimeSpan.FromSeconds(queueSeconds) };
    }
    if (parse.GetValue(heartbeat) is { } heartbeatSeconds)
    {
        options = options with { HeartbeatInterval = TimeSpan.FromSeconds(heartbeatSeconds) };
    }
    if (parse.GetValue(rateLimit) is { } perSecond)
    {
        options = options with { RateLimitPerSecond = perSecond, RateLimitBurst = 2 * perSecond };
    }
    if (parse.GetValue(resendAfter) is { } resendSeconds)
    {
        options = options with { ResendAfter = TimeSpan.FromSeconds(resendSeconds) };
    }
    var app = CoordinatorHost.Build(options);
    await app.RunAsync(cancellationToken);
    return 0;
});

var root = new RootCommand("aitbc-coordinator: the AITBC job marketplace's REST API (port 8000)") { start };
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or FormatException or IOException or UnauthorizedAccessException
    or System.Text.Json.JsonException or System.Data.Common.DbException)
{
    Console.Error.WriteLine($"aitbc-coordinator: {e.Message}");
    return 1;
}


static string? NullIfEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
