using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Mempool;

/// <summary>
/// Transactions that passed CheckTx, in arrival order (which, per sender, is nonce order, since CheckTx
/// admits only the next nonce). Bounded in count and bytes; not thread-safe — the chain guards it.
/// </summary>
public sealed class TxPool(int maxTxs, long maxBytes)
{
    private readonly LinkedList<SignedTransaction> _queue = new();
    private readonly Dictionary<string, LinkedListNode<SignedTransaction>> _byHash = new(StringComparer.Ordinal);

    public int Count => _queue.Count;

    public long Bytes { get; private set; }

    public bool IsFull(int incomingBytes) => _queue.Count >= maxTxs || Bytes + incomingBytes > maxBytes;

    public bool Contains(string hash) => _byHash.ContainsKey(hash);

    public void Add(SignedTransaction tx)
    {
        _byHash.Add(tx.Hash, _queue.AddLast(tx));
        Bytes += tx.WireBytes.Length;
    }

    public List<SignedTransaction> Peek(int max)
    {
        var taken = new List<SignedTransaction>(Math.Min(max, _queue.Count));
        for (var node = _queue.First; node is not null && taken.Count < max; node = node.Next)
        {
            taken.Add(node.Value);
        }
        return taken;
    }

    public bool Remove(string hash)
    {
        if (!_byHash.Remove(hash, out var node))
        {
            return false;
        }
        _queue.Remove(node);
        Bytes -= node.Value.WireBytes.Length;
        return true;
    }

    public IEnumerable<SignedTransaction> All => _queue;
}
