namespace Aitbc.Contracts.Coordinator;

/// <summary>The miner's proof: <c>hash</c> = result_hash, <c>signature</c> = Ed25519 over the JCS of the proof object (Core's <c>MinerProof</c>).</summary>
public sealed record ProofEnvelope(string Hash, string Signature);
