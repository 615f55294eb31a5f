namespace Aitbc.Load.Tests;

/// <summary>The profile summary reads `perf script -F comm,tid,ip,sym,dso` text the way perf writes it.</summary>
public sealed class ProfileSummaryTests
{
    // Five samples: our coordinator code under Kestrel; SQLite with no unwindable caller; Ed25519 verification under the
    // node's RPC; the runtime's tier-up thread; the load generator's client call (Aitbc.Client under Aitbc.Load).
    private const string Script = """
        .NET TP Worker  1234 
        	    7f0000001000 instance void [aitbc-coordinator] Aitbc.Coordinator.Jobs.JobEndpoints+<SubmitAsync>d__3::MoveNext()[OptimizedTier1] (/tmp/perf-1.map)
        	    7f0000002000 instance void [Microsoft.AspNetCore.Server.Kestrel.Core] Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol+<ProcessRequests>d__238`1[System.__Canon]::MoveNext()[OptimizedTier1] (/tmp/perf-1.map)

        .NET TP Worker  1234 
        	          1a2b3c sqlite3VdbeExec (/usr/lib/libe_sqlite3.so)

        .NET TP Worker  1235 
        	          4d5e6f crypto_sign_ed25519_verify_detached (/usr/lib/libsodium.so)
        	    7f0000003000 bool [Aitbc.Core] Aitbc.Core.Crypto.Ed25519PublicKey::Verify(valuetype [System.Runtime]System.ReadOnlySpan`1<uint8>,valuetype [System.Runtime]System.ReadOnlySpan`1<uint8>)[OptimizedTier1] (/tmp/perf-1.map)
        	    7f0000004000 class Aitbc.Node.Rpc.RpcResult [aitbc-node] Aitbc.Node.Rpc.NodeRpc::BroadcastSync(class Aitbc.Node.Rpc.RpcParams)[OptimizedTier1] (/tmp/perf-1.map)

        .NET Tiered Com 1236 
        	          2ca6f4 [unknown] (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libclrjit.so)

        .NET TP Worker  1237 
        	ffffffff821f2fa7 tcp_sendmsg ([kernel.kallsyms])
        	    7f0000005000 instance void [Aitbc.Client] Aitbc.Client.Rest.RestTransport+<SendRawAsync>d__9::MoveNext()[OptimizedTier1] (/tmp/perf-1.map)
        	    7f0000006000 instance void [aitbc-load] Aitbc.Load.JobLoad+<DriveAsync>d__4::MoveNext()[OptimizedTier1] (/tmp/perf-1.map)

        """;

    [Fact]
    public void Samples_are_counted_by_leaf_by_service_and_by_innermost_method_of_ours()
    {
        var summary = ProfileSummary.Summarize(new StringReader(Script.Replace("\r\n", "\n", StringComparison.Ordinal)));

        Assert.Equal(5, summary.Samples);
        Assert.Equal(
            [("JIT compiler", 1), ("SQLite engine", 1), ("kernel (sockets, files, scheduling)", 1), ("libsodium (Ed25519 signing and verification)", 1), ("managed code", 1)],
            summary.Leaf.OrderBy(l => l.Name, StringComparer.Ordinal));
        Assert.Equal(
            [("JIT: background tier-up compilation", 1), ("coordinator", 1), ("load generator (clients, fake Ollama)", 1), ("node", 1), ("unknown caller: SQLite engine", 1)],
            summary.Service.OrderBy(s => s.Name, StringComparer.Ordinal));
        Assert.Equal(
            [("(none of ours on the stack)", 2), ("Aitbc.Client.Rest.RestTransport.SendRawAsync", 1), ("Aitbc.Coordinator.Jobs.JobEndpoints.SubmitAsync", 1),
                ("Aitbc.Core.Crypto.Ed25519PublicKey.Verify", 1)],
            summary.Innermost);
    }

    [Fact]
    public void The_markdown_gives_each_row_its_share_of_all_samples()
    {
        var summary = ProfileSummary.Summarize(new StringReader(Script.Replace("\r\n", "\n", StringComparison.Ordinal)));

        var markdown = ProfileSummary.Markdown(summary);

        Assert.Contains("5 samples", markdown, StringComparison.Ordinal);
        Assert.Contains("| coordinator | 20.0 % |", markdown, StringComparison.Ordinal);
        Assert.Contains("| (none of ours on the stack) | 40.0 % |", markdown, StringComparison.Ordinal);
    }
}
