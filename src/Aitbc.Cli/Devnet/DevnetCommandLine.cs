using System.CommandLine;
using Aitbc.Cli.Infrastructure;

namespace Aitbc.Cli.Devnet;

/// <summary>
/// <c>aitbc up</c> and <c>aitbc demo</c> as aitbc lists them. Both run in <c>aitbc-devnet</c> (src/Aitbc.Devnet), the
/// host of the node, the coordinator and the miners, which takes its help text from here so that the two agree.
/// </summary>
internal static class DevnetCommandLine
{
    public const string UpDescription = """
        Start a complete local AITBC network in one process (aitbc-devnet): a node (fresh genesis with a funded client
        wallet, funded miners that stake on start, the coordinator named, the client's allowance), the coordinator on
        SQLite, and miners on the chosen backend. Writes DATA_DIR/devnet.env: `source` it and every aitbc command
        (and ./scripts/aitbc-cli.sh) talks to this network. Ctrl-C stops it; running it again resumes the same
        chain and jobs.

        Examples:
          aitbc up
          aitbc up --data-dir /tmp/net2 --port-base 9000 --miners 2
          aitbc up --backend ollama
        """;

    public const string DemoDescription = """
        A job end to end, in one command: starts a local network (node, coordinator, a miner on the embedded
        llama.cpp test model unless Ollama answers), submits "What is machine learning?", waits, prints the job's
        summary (Job ID, Status, Result, Receipt, Completed in, Cost), verifies the receipt (signatures offline,
        then on chain), and stops. Runs on free ports in a temp dir unless told otherwise.

        Examples:
          aitbc demo
          aitbc demo --backend ollama --model llama3.2:latest
          aitbc demo --data-dir /tmp/aitbc-demo --keep
        """;

    public static Command Up() => new HostCommand("up", UpDescription, HostProgram.Devnet, wholeCommandLine: true);

    public static Command Demo() => new HostCommand("demo", DemoDescription, HostProgram.Devnet, wholeCommandLine: true);
}
