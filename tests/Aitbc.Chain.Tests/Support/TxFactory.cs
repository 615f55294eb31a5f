using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Signs transactions for one chain and tracks each sender's next nonce, as a wallet would.</summary>
internal sealed class TxFactory(string chainId = GenesisBuilder.DefaultChainId)
{
    private readonly Dictionary<Address, ulong> _lastNonce = [];

    public ulong NextNonce(Ed25519KeyPair key) => _lastNonce.GetValueOrDefault(key.Address) + 1;

    /// <summary>Signs with the sender's next nonce and counts it as used.</summary>
    public SignedTransaction Sign(Ed25519KeyPair key, TxBody body)
    {
        var nonce = NextNonce(key);
        _lastNonce[key.Address] = nonce;
        return SignWithNonce(key, nonce, body);
    }

    /// <summary>Signs with the sender's next nonce without using it up: for a transaction the test expects to be refused.</summary>
    public SignedTransaction Peek(Ed25519KeyPair key, TxBody body) => SignWithNonce(key, NextNonce(key), body);

    public SignedTransaction SignWithNonce(Ed25519KeyPair key, ulong nonce, TxBody body) =>
        new UnsignedTransaction(chainId, key.PublicKey, nonce, body).Sign(key);
}
