using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Core.Blocks;
using Aitbc.Core.Json;

namespace Aitbc.Node.Rpc;

/// <summary>
/// Our blocks and results in CometBFT v0.38's JSON shapes (64-bit integers as strings, hashes upper hex, bytes
/// base64), and back: a follower rebuilds the exact signed header from the <c>block</c> and <c>commit</c> answers.
/// </summary>
public static class CometJson
{
    public const string Version = "0.38.17";
    public const string PubKeyType = "tendermint/PubKeyEd25519";
    public const string BlockProtocol = "11";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static JsonObject BlockId(string hash) => new()
    {
        ["hash"] = hash,
        ["parts"] = new JsonObject { ["total"] = 1, ["hash"] = hash },
    };

    public static JsonObject Header(BlockHeader header) => new()
    {
        ["version"] = new JsonObject { ["block"] = BlockProtocol, ["app"] = "1" },
        ["chain_id"] = header.ChainId,
        ["height"] = Int(header.Height),
        ["time"] = header.Time,
        ["last_block_id"] = BlockId(header.LastBlockHash),
        ["last_commit_hash"] = "",
        ["data_hash"] = header.DataHash,
        ["validators_hash"] = "",
        ["next_validators_hash"] = "",
        ["consensus_hash"] = "",
        ["app_hash"] = header.AppHash,
        ["last_results_hash"] = "",
        ["evidence_hash"] = "",
        ["proposer_address"] = header.ProposerAddress,
    };

    public static BlockHeader ParseHeader(JsonElement header) => new(
        header.GetProperty("chain_id").GetString()!,
        long.Parse(header.GetProperty("height").GetString()!, CultureInfo.InvariantCulture),
        header.GetProperty("time").GetString()!,
        header.GetProperty("last_block_id").GetProperty("hash").GetString()!,
        header.GetProperty("data_hash").GetString()!,
        header.GetProperty("app_hash").GetString()!,
        header.GetProperty("proposer_address").GetString()!);

    /// <summary>The commit of a block: our single validator's signature over the header's canonical bytes.</summary>
    public static JsonObject Commit(Block block) => new()
    {
        ["height"] = Int(block.Height),
        ["round"] = 0,
        ["block_id"] = BlockId(block.Hash),
        ["signatures"] = new JsonArray(new JsonObject
        {
            ["block_id_flag"] = 2,
            ["validator_address"] = block.Header.ProposerAddress,
            ["timestamp"] = block.Header.Time,
            ["signature"] = block.Signature,
        }),
    };

    public static JsonObject EmptyCommit() => new()
    {
        ["height"] = "0",
        ["round"] = 0,
        ["block_id"] = BlockId(""),
        ["signatures"] = new JsonArray(),
    };

    public static JsonObject Block(Block block, Block? previous) => new()
    {
        ["header"] = Header(block.Header),
        ["data"] = new JsonObject { ["txs"] = new JsonArray([.. block.Txs.Select(t => (JsonNode)Convert.ToBase64String(t))]) },
        ["evidence"] = new JsonObject { ["evidence"] = new JsonArray() },
        ["last_commit"] = previous is null ? EmptyCommit() : Commit(previous),
    };

    public static Block ParseBlock(JsonElement blockResponse, JsonElement commitResponse)
    {
        var block = blockResponse.GetProperty("block");
        var header = ParseHeader(block.GetProperty("header"));
        var txs = new List<byte[]>();
        if (block.GetProperty("data").TryGetProperty("txs", out var txArray) && txArray.ValueKind == JsonValueKind.Array)
        {
            txs.AddRange(txArray.EnumerateArray().Select(t => Convert.FromBase64String(t.GetString()!)));
        }
        var signatures = commitResponse.GetProperty("signed_header").GetProperty("commit").GetProperty("signatures");
        var signature = signatures.GetArrayLength() > 0 ? signatures[0].GetProperty("signature").GetString()! : "";
        return new Block(header, txs, signature);
    }

    public static JsonObject TxResult(TxResult result) => new()
    {
        ["code"] = (uint)result.Code,
        ["data"] = null,
        ["log"] = result.Log,
        ["info"] = "",
        ["gas_wanted"] = "0",
        ["gas_used"] = "0",
        ["events"] = Events(result.Events),
        ["codespace"] = result.IsOk ? "" : "aitbc",
    };

    public static JsonArray Events(IReadOnlyList<TxEvent> events) =>
        new([.. events.Select(e => (JsonNode)new JsonObject
        {
            ["type"] = e.Type,
            ["attributes"] = new JsonArray([.. e.Attributes.Select(a => (JsonNode)new JsonObject
            {
                ["key"] = a.Key,
                ["value"] = a.Value,
                ["index"] = a.Index,
            })]),
        })]);

    public static JsonObject Tx(IndexedTx tx) => new()
    {
        ["hash"] = tx.Hash,
        ["height"] = Int(tx.Height),
        ["index"] = tx.Index,
        ["tx_result"] = TxResult(tx.Result),
        ["tx"] = Convert.ToBase64String(tx.Tx),
    };

    public static JsonNode ToNode<T>(T value) => JsonSerializer.SerializeToNode(value, WireJson.Options)!;
}
