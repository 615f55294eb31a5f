using System.CommandLine;
using Aitbc.Chain.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;
using Aitbc.Node;
using Aitbc.Node.Rpc;

var dataDir = new Option<string>("--data-dir")
{
    Description = "Node home: config/ (genesis, keys), data/ (chain.db), logs/",
    DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aitbc", "node"),
};

var chainId = new Option<string>("--chain-id") { Description = "Chain id written into genesis", Required = true };
var coordinators = new Option<string[]>("--coordinator") { Description = "Address allowed to open and close escrow (repeatable)", AllowMultipleArgumentsPerToken = true };
var allocations = new Option<string[]>("--alloc") { Description = "Initial balance ADDRESS=UAITBC (repeatable)", AllowMultipleArgumentsPerToken = true };
var blockInterval = new Option<int>("--block-interval-ms") { Description = "Minimum time between blocks", DefaultValueFactory = _ => 200 };
var maxBlockTxs = new Option<int>("--max-block-txs") { Description = "Most transactions in one block", DefaultValueFactory = _ => 10_000 };
var init = new Command("init", "Write a validator key and a genesis into the data directory")
{
    dataDir, chainId, coordinators, allocations, blockInterval, maxBlockTxs,
};
init.SetAction(parse =>
{
    var options = new NodeOptions { DataDirectory = parse.GetValue(dataDir)! };
    var genesis = GenesisInit.Run(options, parse.GetValue(chainId)!,
        [.. (parse.GetValue(coordinators) ?? []).Select(Address.Parse)],
        [.. (parse.GetValue(allocations) ?? []).Select(GenesisInit.ParseAllocation)],
        parse.GetValue(blockInterval), parse.GetValue(maxBlockTxs));
    Console.WriteLine($"chain_id:  {genesis.ChainId}");
    Console.WriteLine($"validator: {genesis.Validator.Address} ({genesis.ValidatorPubKey})");
    Console.WriteLine($"supply:    {genesis.TotalSupply}");
    Console.WriteLine($"genesis:   {options.GenesisPath}");
    Console.WriteLine($"key:       {options.ValidatorKeyPath} (0600)");
    return 0;
});

var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
var port = new Option<int>("--port") { Description = "RPC port", DefaultValueFactory = _ => NodeOptions.DefaultPort };
var follow = new Option<Uri?>("--follow")
{
    Description = "Follow this validator's RPC URL instead of producing blocks",
    // System.CommandLine 2.0 has no built-in parser for Uri: without this, every --follow URL was refused.
    CustomParser = result =>
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }
        result.AddError($"--follow must be the validator's http(s) RPC URL, e.g. http://127.0.0.1:8006 (got '{text}')");
        return null;
    },
};
var logDir = new Option<string?>("--log-dir") { Description = "Directory for node.log (default <data-dir>/logs)" };
var moniker = new Option<string>("--moniker") { Description = "Node name shown in status", DefaultValueFactory = _ => Environment.MachineName };
var tlsCert = new Option<string?>("--tls-cert") { Description = $"Serve HTTPS with this certificate: PEM (with --tls-key) or .pfx ({TlsServerSettings.CertificateVariable})" };
var tlsKey = new Option<string?>("--tls-key") { Description = $"PEM private key of --tls-cert ({TlsServerSettings.KeyVariable})" };
var rpcLimits = new RpcLimits();
var maxAnswerBytes = PositiveOption(RpcLimits.AnswerBytesOption, "Most bytes one JSON-RPC call's answer may hold", rpcLimits.MaxAnswerBytes);
var maxBatchAnswerBytes = PositiveOption(RpcLimits.BatchAnswerBytesOption, "Most bytes a JSON-RPC batch's answers may hold together (its first call may use a call's whole limit)", rpcLimits.MaxBatchAnswerBytes);
var maxSearchSteps = PositiveOption(RpcLimits.SearchStepsOption, $"Most work one tx_search call may do, in steps of {ScanBudget.InstructionsPerStep} SQLite instructions", rpcLimits.MaxSearchSteps);
var maxBatchSearchSteps = PositiveOption(RpcLimits.BatchSearchStepsOption, "Most work a JSON-RPC batch's tx_search calls may do together, in the same steps", rpcLimits.MaxBatchSearchSteps);
var start = new Command("start", "Run the node: the validator, or a follower with --follow")
{
    dataDir, host, port, follow, logDir, moniker, tlsCert, tlsKey, maxAnswerBytes, maxBatchAnswerBytes, maxSearchSteps, maxBatchSearchSteps,
};
start.SetAction(async (parse, cancellationToken) =>
{
    var app = await NodeHost.BuildAsync(new NodeOptions
    {
        DataDirectory = parse.GetValue(dataDir)!,
        Host = parse.GetValue(host)!,
        Port = parse.GetValue(port),
        FollowUrl = parse.GetValue(follow),
        LogDirectory = parse.GetValue(logDir),
        Moniker = parse.GetValue(moniker)!,
        Tls = TlsServerSettings.From(parse.GetValue(tlsCert), parse.GetValue(tlsKey)),
        RpcLimits = new RpcLimits
        {
            MaxAnswerBytes = parse.GetValue(maxAnswerBytes),
            MaxBatchAnswerBytes = parse.GetValue(maxBatchAnswerBytes),
            MaxSearchSteps = parse.GetValue(maxSearchSteps),
            MaxBatchSearchSteps = parse.GetValue(maxBatchSearchSteps),
        },
    }, cancellationToken);
    await app.RunAsync(cancellationToken);
    // Non-zero when a service stopped the node on a failure (BlockProducerService), zero after a requested shutdown.
    return Environment.ExitCode;
});

var keyOut = new Option<string>("--out") { Description = $"Key file to create (0600; sealed under a passphrase when {KeyFile.PassphraseVariable} or {KeyFile.PassphraseFileVariable} is set)", Required = true };
var keygen = new Command("keygen", "Create an Ed25519 key file and print its address") { keyOut };
keygen.SetAction(parse =>
{
    var path = parse.GetValue(keyOut)!;
    if (File.Exists(path))
    {
        throw new InvalidOperationException($"{path} already exists");
    }
    using var key = KeyFile.LoadOrCreate(path);
    Console.WriteLine(key.Address);
    return 0;
});

static Option<long> PositiveOption(string name, string description, long defaultValue)
{
    var option = new Option<long>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
    option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<long>() <= 0)
        {
            result.AddError($"{name} must be a positive number");
        }
    });
    return option;
}

var root = new RootCommand("aitbc-node: the AITBC blockchain node (CometBFT-compatible JSON-RPC on port 8006)") { init, start, keygen };
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FormatException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"aitbc-node: {e.Message}");
    return 1;
}
