using System.CommandLine;
using Aitbc.Cli.Devnet;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Jobs;
using Aitbc.Cli.Receipts;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Proofs;
using Spectre.Console;

namespace Aitbc.Devnet;

/// <summary><c>aitbc demo</c>: the seed's flow in one command, start to finish.</summary>
internal static class DemoCommand
{
    public const string SeedPrompt = "What is machine learning?";

    public static Command Build(Func<ParseResult, CliContext> context)
    {
        var network = new DevnetCommands.NetworkOptions();
        var prompt = new Option<string>("--prompt") { Description = "The job's prompt", DefaultValueFactory = _ => SeedPrompt };
        var model = new Option<string?>("--model") { Description = "The job's model [default: the first model the miners serve]" };
        var keep = new Option<bool>("--keep") { Description = "Keep the network's data directory (default: a temp dir, deleted at the end)" };
        var command = new Command("demo", DevnetCommandLine.DemoDescription);
        network.AddTo(command);
        command.Options.Add(prompt);
        command.Options.Add(model);
        command.Options.Add(keep);
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var explicitDir = parse.GetValue(network.DataDir);
            var temp = explicitDir is null ? Path.Combine(Path.GetTempPath(), $"aitbc-demo-{Guid.NewGuid().ToString("N")[..8]}") : null;
            var options = network.Read(parse, defaultDataDir: temp, defaultPortBase: 0);
            try
            {
                var logsKept = temp is null || parse.GetValue(keep);
                return await RunAsync(ctx, options, parse.GetValue(prompt)!, parse.GetValue(model), logsKept, cancellationToken);
            }
            finally
            {
                if (temp is not null && !parse.GetValue(keep))
                {
                    try
                    {
                        Directory.Delete(temp, recursive: true);
                    }
                    catch (IOException)
                    {
                    }
                }
            }
        });
    }

    private static async Task<int> RunAsync(CliContext ctx, DevnetOptions options, string prompt, string? model, bool logsKept, CancellationToken cancellationToken)
    {
        await using var devnet = await DevnetCommands.StartAsync(ctx, options, cancellationToken, quiet: ctx.IsJson);
        model ??= devnet.Models.FirstOrDefault() ?? throw new CliUsageException("the miners' backend lists no models; name one with --model");
        using var client = CoordinatorClient.Create(devnet.CoordinatorUrl, devnet.State.ClientApiKey, ctx.Settings.Retry);
        if (!ctx.IsJson)
        {
            ctx.Console.WriteLine();
            ctx.Console.WriteLine($"$ aitbc submit inference --prompt \"{prompt}\" --model {model} --wait");
        }
        var accepted = await client.SubmitJobAsync(new JobSubmission("inference", prompt, model), cancellationToken: cancellationToken);
        var job = await ctx.WithSpinnerAsync($"Job {accepted.JobId}: {accepted.Status}", status =>
            client.WaitForJobAsync(accepted.JobId, progress: j => status($"Job {j.JobId}: {j.Status}"), cancellationToken: cancellationToken));
        if (!ctx.IsJson)
        {
            JobCommands.WriteSummary(ctx.Console, job);
        }

        ReceiptVerificationView? verification = null;
        if (job.ReceiptId is { } receiptId)
        {
            // The client never waits on blocks; the demo does, to show the receipt on chain.
            var receipt = await WaitForChainAsync(client, receiptId, cancellationToken);
            using var node = NodeClient.Create(devnet.NodeUrl, ctx.Settings.Retry);
            verification = await ReceiptCommands.CheckAsync(receipt, node, devnet.CoordinatorPublicKey, cancellationToken);
            if (!ctx.IsJson)
            {
                ctx.Console.WriteLine();
                ctx.Console.WriteLine($"$ aitbc receipt verify {receiptId}");
                ReceiptCommands.WriteChecks(ctx.Console, receipt, verification);
            }
        }
        var network = DevnetCommands.View(devnet, options);
        if (ctx.IsJson)
        {
            ctx.Write(new DemoView(network, job, verification), _ => { });
        }
        else
        {
            ctx.Console.WriteLine();
            ctx.Console.WriteLine(logsKept
                ? $"Logs: {options.DataDirectory}/*/logs. Stopping the network."
                : "Stopping the network (its temp dir goes with it; --keep keeps data and logs).");
        }
        if (job.Status != JobStatus.Completed)
        {
            throw new CliException(ExitCodes.JobFailed, $"the demo job {job.JobId} {job.Status}: {job.Error ?? "no reason given"}; {(logsKept ? $"see the logs under {options.DataDirectory}" : "run again with --keep to keep the logs")}");
        }
        return verification is { Valid: true }
            ? ExitCodes.Ok
            : throw new CliRefusedException($"the demo job's receipt did not verify: {string.Join("; ", verification?.Checks.Where(c => !c.Ok).Select(c => c.Detail) ?? ["no receipt"])}");
    }

    private static async Task<Receipt> WaitForChainAsync(CoordinatorClient client, string receiptId, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var receipt = await client.GetReceiptAsync(receiptId, cancellationToken);
            if (receipt.Chain?.BlockHeight is > 0 || timeout.IsCancellationRequested)
            {
                return receipt;
            }
            await Task.Delay(100, CancellationToken.None);
        }
    }
}
