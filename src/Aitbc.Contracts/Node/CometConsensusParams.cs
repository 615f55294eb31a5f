namespace Aitbc.Contracts.Node;

/// <summary>
/// CometBFT's consensus_params; @cosmjs/tendermint-rpc's genesis decoder reads <c>consensus_params.block</c>
/// unconditionally, so a genesis cannot be decoded without it.
/// </summary>
public sealed record CometConsensusParams(
    CometBlockParams Block,
    CometEvidenceParams Evidence,
    CometValidatorParams Validator,
    CometVersionParams Version,
    CometAbciParams Abci);
