using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The genesis in CometBFT's shape; <c>app_state</c> is the ledger's own genesis document.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometGenesisDoc(
    string GenesisTime,
    string ChainId,
    long InitialHeight,
    CometConsensusParams ConsensusParams,
    IReadOnlyList<CometGenesisValidator> Validators,
    string AppHash,
    JsonElement AppState);
