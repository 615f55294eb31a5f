namespace Aitbc.Core.Transactions;

/// <summary>Result codes of CheckTx/DeliverTx (ABCI <c>code</c>); 0 is success, every other value names the rule that refused the transaction.</summary>
public enum TxCode : uint
{
    Ok = 0,
    Malformed = 1,
    WrongChainId = 2,
    BadSignature = 3,
    BadNonce = 4,
    InsufficientFunds = 5,
    InsufficientAllowance = 6,
    Unauthorized = 7,
    UnknownJob = 8,
    EscrowClosed = 9,
    InvalidField = 10,
    UnknownMiner = 11,
    BadProof = 12,
    DuplicateTx = 13,
    MempoolFull = 14,
    AlreadyExists = 15,
    Overflow = 16,
    StakeLocked = 17,
}
