using System.CommandLine;
using System.Globalization;
using Aitbc.Cli.Infrastructure;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Spectre.Console;
using static Aitbc.Cli.Infrastructure.CommandExtensions;

namespace Aitbc.Cli.Jobs;

/// <summary>
/// The job commands: <c>submit inference</c>, <c>status</c>, <c>jobs list|cancel</c>, and <c>ai submit|status</c> as
/// the same commands under the seed's newer names. JSON output is the coordinator's own records (snake_case).
/// </summary>
internal static class JobCommands
{
    public static Command Submit(Func<ParseResult, CliContext> context) => BuildSubmit(context, "submit", "aitbc submit");

    public static Command Status(Func<ParseResult, CliContext> context) => BuildStatus(context, "status", "aitbc status");

    /// <summary><c>aitbc ai submit|status</c>: the same commands as <c>aitbc submit</c> and <c>aitbc status</c>.</summary>
    public static Command Ai(Func<ParseResult, CliContext> context) => new("ai", """
        AI jobs: 'aitbc ai submit' and 'aitbc ai status' are the same commands as 'aitbc submit' and 'aitbc status'.

        Examples:
          aitbc ai submit inference --prompt "What is machine learning?" --model llama3.2:latest --wait
          aitbc ai status job_123456
        """)
    {
        BuildSubmit(context, "submit", "aitbc ai submit"),
        BuildStatus(context, "status", "aitbc ai status"),
    };

    public static Command Jobs(Func<ParseResult, CliContext> context) => new("jobs", """
        Your jobs on the coordinator: list them, cancel one that has not started.

        Examples:
          aitbc jobs list
          aitbc jobs cancel job_123456
        """)
    {
        List(context),
        Cancel(context),
    };

    private static Command BuildSubmit(Func<ParseResult, CliContext> context, string name, string path)
    {
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt to run", Required = true };
        var model = new Option<string>("--model", "-m") { Description = "Model to run it on, e.g. llama3.2:latest (see 'aitbc market models')", Required = true };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature, e.g. 0.7" };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens to generate (the model's num_predict)" };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed, for repeatable output" };
        var budget = new Option<string?>("--budget") { Description = "Most AITBC to pay, e.g. 0.5 (escrowed from your wallet; default: the coordinator's)" };
        var ttl = new Option<int?>("--ttl") { Description = "Seconds the job may take before it is refunded (default: the coordinator's)" };
        var wait = new Option<bool>("--wait") { Description = "Wait for the job to finish and print its result" };
        var idempotencyKey = new Option<string?>("--idempotency-key")
        {
            Description = "Key that makes a resubmission return the first job instead of a new one (default: a fresh key; retries of this call always reuse it)",
        };
        var inference = new Command("inference", $"""
            Submit an inference job to the coordinator. Prints the job id; with --wait, waits and prints the result, receipt and cost.

            Examples:
              {path} inference --prompt "What is machine learning?" --model llama3.2:latest
              {path} inference --prompt "Hello" --model llama3.2:latest --max-tokens 64 --budget 0.5 --wait
              {path} inference --prompt "Hello" --model llama3.2:latest --output json
            """)
        { prompt, model, temperature, maxTokens, seed, budget, ttl, wait, idempotencyKey };
        inference.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var maxPrice = parse.GetValue(budget) is { } b ? ParseAmount(b, "--budget").ToAitbcString() : null;
            var ttlSeconds = parse.GetValue(ttl);
            if (ttlSeconds is <= 0)
            {
                throw new CliUsageException("--ttl must be a positive number of seconds");
            }
            if (parse.GetValue(maxTokens) is <= 0)
            {
                throw new CliUsageException("--max-tokens must be a positive number");
            }
            var options = (parse.GetValue(temperature), parse.GetValue(maxTokens), parse.GetValue(seed)) is (null, null, null)
                ? null
                : new JobOptions(parse.GetValue(temperature), parse.GetValue(maxTokens), parse.GetValue(seed));
            var job = new JobSubmission("inference", parse.GetValue(prompt)!, parse.GetValue(model)!, options, maxPrice, ttlSeconds);
            using var coordinator = ctx.CreateCoordinatorClient();
            var accepted = await coordinator.SubmitJobAsync(job, parse.GetValue(idempotencyKey), cancellationToken);
            if (!parse.GetValue(wait))
            {
                ctx.Write(accepted, console =>
                {
                    CliContext.WriteFields(console, ("Job ID", accepted.JobId), ("Status", accepted.Status));
                    console.WriteLine($"Follow it with 'aitbc status {accepted.JobId} --wait'.");
                });
                return ExitCodes.Ok;
            }
            var done = await WaitAsync(ctx, coordinator, accepted.JobId, cancellationToken);
            return Finish(ctx, done);
        });
        return new Command(name, $"""
            Submit a job to the coordinator.

            Examples:
              {path} inference --prompt "What is machine learning?" --model llama3.2:latest
              {path} inference --prompt "What is machine learning?" --model llama3.2:latest --wait
            """)
        { inference };
    }

    private static Command BuildStatus(Func<ParseResult, CliContext> context, string name, string path)
    {
        var jobId = new Argument<string>("job") { Description = "The job id 'submit' printed, e.g. job_123456" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job is completed, failed or cancelled" };
        var command = new Command(name, $"""
            Show a job. A finished job prints its result, receipt, time and cost; exit code 1 when it failed or was cancelled.

            Examples:
              {path} job_123456
              {path} job_123456 --wait
              {path} job_123456 --output json
            """)
        { jobId, wait };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var id = parse.GetValue(jobId)!;
            using var coordinator = ctx.CreateCoordinatorClient();
            var job = parse.GetValue(wait)
                ? await WaitAsync(ctx, coordinator, id, cancellationToken)
                : await coordinator.GetJobAsync(id, cancellationToken: cancellationToken);
            if (job.IsTerminal)
            {
                return Finish(ctx, job);
            }
            ctx.Write(job, console =>
            {
                CliContext.WriteFields(console, ("Job ID", job.JobId), ("Status", job.Status), ("Model", job.Model), ("Submitted", job.SubmittedAt),
                    ("Started", job.StartedAt), ("Miner", job.Miner), ("Budget", AitbcText(job.MaxPrice)), ("Deadline", job.Deadline));
                console.WriteLine($"Not finished yet; wait for it with 'aitbc status {job.JobId} --wait'.");
            });
            return ExitCodes.Ok;
        });
    }

    private static Command List(Func<ParseResult, CliContext> context)
    {
        var limit = new Option<int?>("--limit") { Description = "Most jobs per page (newest first)" };
        var cursor = new Option<string?>("--cursor") { Description = "Page to show: the cursor the previous page printed" };
        var command = new Command("list", """
            List your jobs, newest first, one page at a time.

            Examples:
              aitbc jobs list
              aitbc jobs list --limit 10 --cursor <next cursor> --output json
            """)
        { limit, cursor };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            if (parse.GetValue(limit) is <= 0)
            {
                throw new CliUsageException("--limit must be a positive number");
            }
            using var coordinator = ctx.CreateCoordinatorClient();
            var page = await coordinator.ListJobsAsync(parse.GetValue(limit), parse.GetValue(cursor), cancellationToken);
            ctx.Write(page, console => WriteJobTable(console, page, "aitbc jobs list", "No jobs yet; submit one with 'aitbc submit inference --prompt ... --model ...'."));
            return ExitCodes.Ok;
        });
    }

    private static Command Cancel(Func<ParseResult, CliContext> context)
    {
        var jobId = new Argument<string>("job") { Description = "The job to cancel (pending or assigned only)" };
        var command = new Command("cancel", """
            Cancel a job that no miner has started; its escrowed budget is refunded.

            Examples:
              aitbc jobs cancel job_123456
            """)
        { jobId };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient();
            var job = await coordinator.CancelJobAsync(parse.GetValue(jobId)!, cancellationToken);
            ctx.Write(job, console => CliContext.WriteFields(console, ("Job ID", job.JobId), ("Status", job.Status)));
            return ExitCodes.Ok;
        });
    }

    /// <summary>A page of jobs as a table, with the command for the next page.</summary>
    internal static void WriteJobTable(IAnsiConsole console, JobPage page, string command, string empty)
    {
        if (page.Jobs.Count == 0)
        {
            console.WriteLine(empty);
            return;
        }
        var table = new Table().Border(TableBorder.None).AddColumn("JOB ID").AddColumn("STATUS").AddColumn("MODEL").AddColumn("COST").AddColumn("SUBMITTED");
        foreach (var job in page.Jobs)
        {
            table.AddRow(Markup.Escape(job.JobId), job.Status, Markup.Escape(job.Model), job.Cost is { } c ? $"{c} AITBC" : "-", job.SubmittedAt);
        }
        console.Write(table);
        if (page.NextCursor is { } next)
        {
            console.WriteLine($"More: {command} --cursor {next}");
        }
    }

    private static Task<JobView> WaitAsync(CliContext ctx, CoordinatorClient coordinator, string jobId, CancellationToken cancellationToken) =>
        ctx.WithSpinnerAsync($"Job {jobId}: waiting", status =>
            coordinator.WaitForJobAsync(jobId, progress: job => status($"Job {job.JobId}: {job.Status}"), cancellationToken: cancellationToken));

    /// <summary>Prints a finished job (the seed's step 12) and returns 0, or 1 with its error when it failed or was cancelled.</summary>
    private static int Finish(CliContext ctx, JobView job)
    {
        ctx.Write(job, console => WriteSummary(console, job));
        if (job.Status == JobStatus.Completed)
        {
            return ExitCodes.Ok;
        }
        throw new CliException(ExitCodes.JobFailed, $"job {job.JobId} {job.Status}: {job.Error ?? "no reason given"}; its escrowed budget is refunded");
    }

    /// <summary>A finished job as the seed's step 12 prints it.</summary>
    internal static void WriteSummary(IAnsiConsole console, JobView job)
    {
        if (job.Status == JobStatus.Completed)
        {
            WriteLines(console, ("Job ID", job.JobId), ("Status", job.Status), ("Result", job.Result), ("Receipt", job.ReceiptId),
                ("Completed in", Elapsed(job)), ("Cost", AitbcText(job.Cost)));
        }
        else
        {
            WriteLines(console, ("Job ID", job.JobId), ("Status", job.Status), ("Error", job.Error), ("Cost", AitbcText(job.Cost ?? "0")));
        }
    }

    /// <summary>The seed's <c>Label: value</c> lines, one space after the colon.</summary>
    private static void WriteLines(IAnsiConsole console, params (string Label, string? Value)[] fields)
    {
        foreach (var (label, value) in fields)
        {
            console.WriteLine($"{label}: {value ?? "-"}");
        }
    }

    /// <summary>Submission to completion, as the seed prints it: <c>17 seconds</c>, <c>4.2 seconds</c>.</summary>
    internal static string? Elapsed(JobView job)
    {
        if (job.CompletedAt is null
            || !DateTimeOffset.TryParse(job.SubmittedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var from)
            || !DateTimeOffset.TryParse(job.CompletedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var to))
        {
            return null;
        }
        var seconds = Math.Round(Math.Max(0, (to - from).TotalSeconds), 1);
        return seconds == 1 ? "1 second" : $"{seconds.ToString("0.#", CultureInfo.InvariantCulture)} seconds";
    }

    internal static string? AitbcText(string? amount) => amount is null ? null : $"{amount} AITBC";
}
