using System.CommandLine;
using Aitbc.Miner;

var root = new RootCommand("aitbc-miner: sells inference to the AITBC marketplace (port 8010)");
foreach (var command in MinerCommandLine.Commands())
{
    root.Subcommands.Add(command);
}
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (MinerCommandLine.IsOperatorError(e))
{
    Console.Error.WriteLine($"aitbc-miner: {e.Message}");
    return 1;
}
