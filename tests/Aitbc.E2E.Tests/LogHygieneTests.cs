using Aitbc.Contracts.Coordinator;

namespace Aitbc.E2E.Tests;

/// <summary>Users trust us with prompts and keys: after a job, no service's log holds the prompt, the result or any key.</summary>
[Collection(E2ECollection.Name)]
public sealed class LogHygieneTests(E2ENetwork net)
{
    [Fact]
    public async Task No_log_holds_a_prompt_a_result_or_a_key()
    {
        var prompt = "secret prompt " + Guid.NewGuid().ToString("N");
        using var api = net.ClientApi();
        var accepted = await api.SubmitJobAsync(new JobSubmission("inference", prompt, E2ENetwork.SeedModel));
        var job = await api.WaitForJobAsync(accepted.JobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        await Task.Delay(500); // the request log line of the last poll

        var secrets = new Dictionary<string, string>
        {
            ["prompt"] = prompt,
            ["result"] = job.Result!.Trim(),
            ["client key"] = net.ClientApiKey,
            ["admin key"] = net.AdminKey,
        };
        for (var i = 0; i < net.MinerApiKeys.Count; i++)
        {
            secrets[$"miner {i + 1} key"] = net.MinerApiKeys[i];
        }
        var files = net.LogFiles().ToList();
        Assert.Contains(files, f => f.EndsWith("coordinator.log", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("miner.log", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("node.log", StringComparison.Ordinal));
        foreach (var file in files)
        {
            string text;
            using (var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete)))
            {
                text = await reader.ReadToEndAsync();
            }
            if (file.EndsWith("coordinator.log", StringComparison.Ordinal))
            {
                // The requests were logged (their paths name the job): the check below reads real log lines.
                Assert.Contains(accepted.JobId, text, StringComparison.Ordinal);
            }
            foreach (var (what, secret) in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{Path.GetFileName(file)} holds the {what}");
            }
        }
    }

    [Fact]
    public async Task Api_keys_rest_only_as_hashes_and_every_key_file_is_owner_only()
    {
        // The store is read as bytes, WAL included: a key kept in clear anywhere in the coordinator's data shows up.
        using (var admin = net.AdminApi())
        {
            await admin.GetAdminMinersAsync();
        }
        var keys = new Dictionary<string, string> { ["client key"] = net.ClientApiKey, ["admin key"] = net.AdminKey };
        for (var i = 0; i < net.MinerApiKeys.Count; i++)
        {
            keys[$"miner {i + 1} key"] = net.MinerApiKeys[i];
        }
        var dataFiles = Directory.EnumerateFiles(Path.Combine(net.Home, "coordinator"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}logs{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        Assert.Contains(dataFiles, f => f.EndsWith("coordinator.db", StringComparison.Ordinal));
        foreach (var file in dataFiles)
        {
            byte[] bytes;
            await using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy);
                bytes = copy.ToArray();
            }
            foreach (var (what, key) in keys)
            {
                Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(key)) < 0, $"{Path.GetFileName(file)} holds the {what} in clear");
            }
        }

        // Private keys the services created or were given: readable by their owner only.
        var keyFiles = Directory.EnumerateFiles(net.Home, "*key*.json", SearchOption.AllDirectories).ToList();
        Assert.True(keyFiles.Count >= 1 + net.MinerKeys.Count, string.Join(", ", keyFiles));
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        foreach (var file in keyFiles)
        {
            var mode = File.GetUnixFileMode(file);
            Assert.True((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) == 0, $"{file} is {mode}");
        }
    }
}
