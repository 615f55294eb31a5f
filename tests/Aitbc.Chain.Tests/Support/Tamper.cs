using System.Text.Json.Nodes;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Builds transactions a wallet would never make, to check that the chain refuses them.</summary>
internal static class Tamper
{
    /// <summary>Edits the signed JSON (keeping the old signature) and re-encodes it canonically, so it still decodes.</summary>
    public static byte[] Edit(SignedTransaction tx, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(tx.WireBytes)!.AsObject();
        edit(json);
        return CanonicalJson.Serialize(json);
    }

    /// <summary>The transaction with its body's <c>amount</c> changed and the original signature kept.</summary>
    public static SignedTransaction WithForgedAmount(SignedTransaction tx, string amount) =>
        Decode(Edit(tx, json => json["body"]!["amount"] = amount));

    public static SignedTransaction Decode(byte[] wire)
    {
        Assert.True(SignedTransaction.TryDecode(wire, out var tx, out var error), error);
        return tx;
    }
}
