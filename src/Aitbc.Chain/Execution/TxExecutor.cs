using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Core;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Execution;

/// <summary>
/// The ledger's rules. Each transaction is checked in full before anything is written, so a refused
/// transaction changes nothing (not even the nonce) and says why.
/// </summary>
public sealed class TxExecutor(GenesisDocument genesis)
{
    public const int MaxIdLength = 128;
    public const int MaxReasonLength = 512;
    public const int MaxModelLength = 256;

    /// <summary>Unstakes a miner may have unbonding at once (those of one block share an entry), so its record stays small.</summary>
    public const int MaxUnbondingEntries = 16;

    private readonly HashSet<Address> _coordinators = [.. genesis.Coordinators];
    private readonly TimeSpan _unbonding = TimeSpan.FromMilliseconds(genesis.UnbondingMs);

    public string ChainId { get; } = genesis.ChainId;

    public bool IsCoordinator(Address address) => _coordinators.Contains(address);

    /// <summary>Checks and, when valid, applies <paramref name="tx"/> to <paramref name="state"/>.</summary>
    /// <param name="blockTime">the time of the block the transaction goes in (for CheckTx, the node's clock)</param>
    /// <param name="signatureChecked">true when the caller has already verified the signature (the mempool did).</param>
    public TxResult Execute(StateOverlay state, SignedTransaction tx, long height, DateTimeOffset blockTime, bool signatureChecked)
    {
        var envelope = tx.Tx;
        if (!string.Equals(envelope.ChainId, ChainId, StringComparison.Ordinal))
        {
            return TxResult.Fail(TxCode.WrongChainId, $"chain_id '{envelope.ChainId}' does not match this chain ('{ChainId}')");
        }
        if (!signatureChecked && !tx.VerifySignature())
        {
            return TxResult.Fail(TxCode.BadSignature, "signature does not verify for pub_key");
        }
        var sender = envelope.Sender;
        var account = state.GetAccount(sender);
        if (envelope.Nonce != account.Nonce + 1)
        {
            return TxResult.Fail(TxCode.BadNonce, $"nonce {envelope.Nonce} is wrong: expected {account.Nonce + 1}");
        }
        try
        {
            return envelope.Body switch
            {
                TransferBody b => Transfer(state, sender, account, b),
                ApproveBody b => Approve(state, sender, account, b),
                RegisterMinerBody b => RegisterMiner(state, envelope, sender, account, b, height),
                UnstakeBody b => Unstake(state, sender, account, b, height, blockTime),
                SubmitJobBody b => SubmitJob(state, sender, account, b, height),
                RecordReceiptBody b => RecordReceipt(state, tx, sender, account, b, height),
                RefundJobBody b => RefundJob(state, sender, account, b, height),
                _ => TxResult.Fail(TxCode.Malformed, $"unsupported transaction type '{envelope.Type}'"),
            };
        }
        catch (OverflowException)
        {
            return TxResult.Fail(TxCode.Overflow, "amount arithmetic would overflow");
        }
    }

    private static TxResult Transfer(StateOverlay state, Address sender, AccountState account, TransferBody b)
    {
        if (b.Amount.IsZero)
        {
            return TxResult.Fail(TxCode.InvalidField, "amount must be greater than 0");
        }
        if (account.Balance < b.Amount)
        {
            return TxResult.Fail(TxCode.InsufficientFunds, $"insufficient funds: balance {account.Balance.ToMicroString()}uaitbc, needed {b.Amount.ToMicroString()}uaitbc");
        }
        if (b.To == sender)
        {
            state.SetAccount(sender, Bump(account));
        }
        else
        {
            var recipient = state.GetAccount(b.To);
            var newRecipient = recipient with { Balance = recipient.Balance + b.Amount };
            state.SetAccount(sender, Bump(account) with { Balance = account.Balance - b.Amount });
            state.SetAccount(b.To, newRecipient);
        }
        return Ok(TxType.Transfer, ("sender", sender.Value), ("recipient", b.To.Value), ("amount", b.Amount.ToMicroString()));
    }

    private static TxResult Approve(StateOverlay state, Address sender, AccountState account, ApproveBody b)
    {
        if (b.Spender == sender)
        {
            return TxResult.Fail(TxCode.InvalidField, "spender must not be the signer");
        }
        state.SetAccount(sender, Bump(account).WithAllowance(b.Spender, b.Amount));
        return Ok(TxType.Approve, ("owner", sender.Value), ("spender", b.Spender.Value), ("amount", b.Amount.ToMicroString()));
    }

    private static TxResult RegisterMiner(StateOverlay state, UnsignedTransaction envelope, Address sender, AccountState account, RegisterMinerBody b, long height)
    {
        if (b.Stake.IsZero)
        {
            return TxResult.Fail(TxCode.InvalidField, "stake must be greater than 0");
        }
        if (account.Balance < b.Stake)
        {
            return TxResult.Fail(TxCode.InsufficientFunds, $"insufficient funds for stake: balance {account.Balance.ToMicroString()}uaitbc, stake {b.Stake.ToMicroString()}uaitbc");
        }
        var existing = state.GetMiner(sender);
        var miner = existing is null
            ? new MinerState(sender, envelope.PubKey.Base64, b.Stake, height)
            : existing with { Stake = existing.Stake + b.Stake };
        state.SetAccount(sender, Bump(account) with { Balance = account.Balance - b.Stake });
        state.SetMiner(miner);
        return Ok(TxType.RegisterMiner, ("miner", sender.Value), ("stake", miner.Stake.ToMicroString()), ("added", b.Stake.ToMicroString()));
    }

    private TxResult Unstake(StateOverlay state, Address sender, AccountState account, UnstakeBody b, long height, DateTimeOffset blockTime)
    {
        var miner = state.GetMiner(sender);
        if (miner is null)
        {
            return TxResult.Fail(TxCode.UnknownMiner, $"{sender} is not a registered miner");
        }
        if (b.Amount.IsZero)
        {
            return TxResult.Fail(TxCode.InvalidField, "amount must be greater than 0");
        }
        if (miner.Stake < b.Amount)
        {
            return TxResult.Fail(TxCode.InsufficientFunds, $"bonded stake is {miner.Stake.ToMicroString()}uaitbc, cannot unstake {b.Amount.ToMicroString()}uaitbc");
        }
        // The stake leaves the bonded stake now (rankings and later unstakes see less at once) but reaches the balance
        // only when the unbonding delay has passed, so a job the miner ran on it can still be answered for.
        var releaseAt = BlockHeader.FormatTime(blockTime + _unbonding);
        List<UnbondingEntry> entries = [.. miner.Unbonding ?? []];
        if (entries.Count > 0 && entries[^1].ReleaseAt == releaseAt)
        {
            entries[^1] = entries[^1] with { Amount = entries[^1].Amount + b.Amount };
        }
        else if (entries.Count >= MaxUnbondingEntries)
        {
            return TxResult.Fail(TxCode.StakeLocked, $"{MaxUnbondingEntries} unstakes are already unbonding; the next is released at {entries.MinBy(e => e.ReleaseAt, StringComparer.Ordinal)!.ReleaseAt}");
        }
        else
        {
            entries.Add(new UnbondingEntry(b.Amount, height, releaseAt));
        }
        state.SetMiner(miner.WithUnbonding(entries) with { Stake = miner.Stake - b.Amount });
        state.SetAccount(sender, Bump(account));
        return Ok(TxType.Unstake, ("miner", sender.Value), ("amount", b.Amount.ToMicroString()), ("release_at", releaseAt));
    }

    /// <summary>
    /// Returns to their miners' balances the unbonding entries whose release time the block has reached. Runs at the
    /// start of every block, before its transactions, over the miners that had stake unbonding when it began.
    /// </summary>
    /// <returns>true when anything was released.</returns>
    public static bool ReleaseUnbonded(StateOverlay state, IEnumerable<Address> unbonding, DateTimeOffset blockTime)
    {
        var released = false;
        foreach (var address in unbonding)
        {
            if (state.GetMiner(address) is not { Unbonding: { Count: > 0 } entries } miner)
            {
                continue;
            }
            var due = entries.Where(e => e.IsDueAt(blockTime)).ToList();
            if (due.Count == 0)
            {
                continue;
            }
            var amount = due.Aggregate(Amount.Zero, (sum, e) => sum + e.Amount);
            state.SetMiner(miner.WithUnbonding(entries.Where(e => !e.IsDueAt(blockTime))));
            var account = state.GetAccount(address);
            state.SetAccount(address, account with { Balance = account.Balance + amount });
            released = true;
        }
        return released;
    }

    private TxResult SubmitJob(StateOverlay state, Address sender, AccountState account, SubmitJobBody b, long height)
    {
        if (!IsCoordinator(sender))
        {
            return TxResult.Fail(TxCode.Unauthorized, $"{sender} is not a coordinator named in genesis");
        }
        if (!IsValidId(b.JobId))
        {
            return TxResult.Fail(TxCode.InvalidField, $"job_id must be 1 to {MaxIdLength} characters of A-Z a-z 0-9 . _ : -");
        }
        if (!Hashing.IsContentHash(b.PayloadHash))
        {
            return TxResult.Fail(TxCode.InvalidField, "payload_hash must be 64 lower-case hex characters");
        }
        if (b.MaxAmount.IsZero)
        {
            return TxResult.Fail(TxCode.InvalidField, "max_amount must be greater than 0");
        }
        if (state.GetEscrow(b.JobId) is not null)
        {
            return TxResult.Fail(TxCode.AlreadyExists, $"job {b.JobId} already has an escrow");
        }
        var clientAccount = b.Client == sender ? account : state.GetAccount(b.Client);
        var allowance = clientAccount.AllowanceFor(sender);
        if (allowance < b.MaxAmount)
        {
            return TxResult.Fail(TxCode.InsufficientAllowance, $"client {b.Client} allows the coordinator {allowance.ToMicroString()}uaitbc, job needs {b.MaxAmount.ToMicroString()}uaitbc");
        }
        if (clientAccount.Balance < b.MaxAmount)
        {
            return TxResult.Fail(TxCode.InsufficientFunds, $"client {b.Client} has {clientAccount.Balance.ToMicroString()}uaitbc, job needs {b.MaxAmount.ToMicroString()}uaitbc");
        }
        var newClient = clientAccount.WithAllowance(sender, allowance - b.MaxAmount) with { Balance = clientAccount.Balance - b.MaxAmount };
        if (b.Client == sender)
        {
            state.SetAccount(sender, Bump(newClient));
        }
        else
        {
            state.SetAccount(sender, Bump(account));
            state.SetAccount(b.Client, newClient);
        }
        state.SetEscrow(new EscrowState(b.JobId, b.Client, sender, b.PayloadHash, b.MaxAmount, EscrowStatus.Open, height));
        return Ok(TxType.SubmitJob, ("job_id", b.JobId), ("client", b.Client.Value), ("amount", b.MaxAmount.ToMicroString()));
    }

    private TxResult RecordReceipt(StateOverlay state, SignedTransaction tx, Address sender, AccountState account, RecordReceiptBody b, long height)
    {
        if (!IsCoordinator(sender))
        {
            return TxResult.Fail(TxCode.Unauthorized, $"{sender} is not a coordinator named in genesis");
        }
        if (!IsValidId(b.ReceiptId))
        {
            return TxResult.Fail(TxCode.InvalidField, $"receipt_id must be 1 to {MaxIdLength} characters of A-Z a-z 0-9 . _ : -");
        }
        if (!Hashing.IsContentHash(b.ResultHash) || !Hashing.IsContentHash(b.PromptHash))
        {
            return TxResult.Fail(TxCode.InvalidField, "result_hash and prompt_hash must be 64 lower-case hex characters");
        }
        if (b.Model.Length is 0 or > MaxModelLength)
        {
            return TxResult.Fail(TxCode.InvalidField, $"model must be 1 to {MaxModelLength} characters");
        }
        if (!double.IsFinite(b.ComputeTime) || b.ComputeTime < 0 || b.TokensGenerated < 0)
        {
            return TxResult.Fail(TxCode.InvalidField, "compute_time and tokens_generated must be non-negative");
        }
        var escrow = state.GetEscrow(b.JobId);
        if (escrow is null)
        {
            return TxResult.Fail(TxCode.UnknownJob, $"job {b.JobId} has no escrow");
        }
        if (NotOwner(escrow, sender) is { } notOwner)
        {
            return notOwner;
        }
        if (!escrow.IsOpen)
        {
            return TxResult.Fail(TxCode.EscrowClosed, $"escrow of job {b.JobId} is already closed ({escrow.Status})");
        }
        if (state.GetReceipt(b.ReceiptId) is not null)
        {
            return TxResult.Fail(TxCode.AlreadyExists, $"receipt {b.ReceiptId} already exists");
        }
        if (b.AmountPaid > escrow.Amount)
        {
            return TxResult.Fail(TxCode.InvalidField, $"amount_paid {b.AmountPaid.ToMicroString()}uaitbc exceeds the escrow of {escrow.Amount.ToMicroString()}uaitbc");
        }
        var miner = state.GetMiner(b.Miner);
        if (miner is null)
        {
            return TxResult.Fail(TxCode.UnknownMiner, $"{b.Miner} is not a registered miner");
        }
        var proof = new MinerProof(b.JobId, b.Model, b.PromptHash, b.ResultHash, b.ComputeTime, b.TokensGenerated);
        if (!proof.Verify(Ed25519PublicKey.Parse(miner.PubKey), b.MinerSignature))
        {
            return TxResult.Fail(TxCode.BadProof, "miner_signature does not verify over the proof with the miner's registered key");
        }

        var refund = escrow.Amount - b.AmountPaid;
        state.SetAccount(sender, Bump(account));
        if (!b.AmountPaid.IsZero)
        {
            var minerAccount = state.GetAccount(b.Miner);
            state.SetAccount(b.Miner, minerAccount with { Balance = minerAccount.Balance + b.AmountPaid });
        }
        if (!refund.IsZero)
        {
            var clientAccount = state.GetAccount(escrow.Client);
            state.SetAccount(escrow.Client, clientAccount with { Balance = clientAccount.Balance + refund });
        }
        state.SetEscrow(escrow with { Status = EscrowStatus.Paid, ClosedHeight = height, ReceiptId = b.ReceiptId, Paid = b.AmountPaid, Refunded = refund });
        state.SetReceipt(new ReceiptRecord(b.ReceiptId, b.JobId, escrow.Client, b.Miner, b.AmountPaid, refund, b.Model,
            b.PromptHash, b.ResultHash, b.ComputeTime, b.TokensGenerated, b.MinerSignature, height, tx.Hash));
        return Ok(TxType.RecordReceipt, ("receipt_id", b.ReceiptId), ("job_id", b.JobId), ("miner", b.Miner.Value),
            ("client", escrow.Client.Value), ("amount_paid", b.AmountPaid.ToMicroString()), ("refunded", refund.ToMicroString()));
    }

    private TxResult RefundJob(StateOverlay state, Address sender, AccountState account, RefundJobBody b, long height)
    {
        if (!IsCoordinator(sender))
        {
            return TxResult.Fail(TxCode.Unauthorized, $"{sender} is not a coordinator named in genesis");
        }
        if (b.Reason.Length > MaxReasonLength)
        {
            return TxResult.Fail(TxCode.InvalidField, $"reason must be at most {MaxReasonLength} characters");
        }
        var escrow = state.GetEscrow(b.JobId);
        if (escrow is null)
        {
            return TxResult.Fail(TxCode.UnknownJob, $"job {b.JobId} has no escrow");
        }
        if (NotOwner(escrow, sender) is { } notOwner)
        {
            return notOwner;
        }
        if (!escrow.IsOpen)
        {
            return TxResult.Fail(TxCode.EscrowClosed, $"escrow of job {b.JobId} is already closed ({escrow.Status})");
        }
        var senderAfter = Bump(account);
        if (escrow.Client == sender)
        {
            state.SetAccount(sender, senderAfter with { Balance = senderAfter.Balance + escrow.Amount });
        }
        else
        {
            state.SetAccount(sender, senderAfter);
            var client = state.GetAccount(escrow.Client);
            state.SetAccount(escrow.Client, client with { Balance = client.Balance + escrow.Amount });
        }
        state.SetEscrow(escrow with { Status = EscrowStatus.Refunded, ClosedHeight = height, Refunded = escrow.Amount, Reason = b.Reason });
        return Ok(TxType.RefundJob, ("job_id", b.JobId), ("client", escrow.Client.Value), ("amount", escrow.Amount.ToMicroString()));
    }

    /// <summary>
    /// An escrow is closed only by the coordinator that opened it: being named in genesis lets a coordinator settle its
    /// own jobs, not pay another coordinator's escrow to a miner of its choice or refund it.
    /// </summary>
    private static TxResult? NotOwner(EscrowState escrow, Address sender) =>
        escrow.Coordinator == sender
            ? null
            : TxResult.Fail(TxCode.Unauthorized, $"escrow of job {escrow.JobId} was opened by coordinator {escrow.Coordinator}; only it may close it, not {sender}");

    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    private static AccountState Bump(AccountState account) => account with { Nonce = account.Nonce + 1 };

    // Amounts are reported but not indexed: nobody searches for a transfer of exactly 1234 uaitbc, and each index row costs a write.
    private static readonly HashSet<string> UnindexedAttributes = ["amount", "stake", "added", "amount_paid", "refunded", "release_at"];

    private static TxResult Ok(string type, params (string Key, string Value)[] attributes) =>
        new(TxCode.Ok, "", [new TxEvent(type, [.. attributes.Select(a => new EventAttribute(a.Key, a.Value, !UnindexedAttributes.Contains(a.Key)))])]);

}
