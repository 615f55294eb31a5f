namespace Aitbc.Contracts.Node;

/// <summary>One validator's signature in a commit; <c>block_id_flag</c> 2 is "signed for the block".</summary>
public sealed record CometCommitSig(int BlockIdFlag, string ValidatorAddress, string Timestamp, string Signature)
{
    public const int FlagCommit = 2;
}
