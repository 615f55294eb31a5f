using Aitbc.Chain;
using Prometheus;

namespace Aitbc.Node;

/// <summary>The node's Prometheus metrics, in a registry of its own so several nodes can share a process.</summary>
public sealed class NodeMetrics
{
    private readonly Gauge _height;
    private readonly Counter _txs;
    private readonly Counter _failedTxs;
    private readonly Gauge _mempool;
    private readonly Histogram _blockInterval;
    private readonly Histogram _blockTxs;
    private readonly Counter _rpc;
    private DateTimeOffset? _lastBlock;

    public NodeMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _height = factory.CreateGauge("aitbc_node_height", "Height of the last committed block.");
        _txs = factory.CreateCounter("aitbc_node_txs_total", "Transactions committed in blocks.");
        _failedTxs = factory.CreateCounter("aitbc_node_txs_failed_total", "Committed transactions whose execution failed (code != 0).");
        _mempool = factory.CreateGauge("aitbc_node_mempool_size", "Transactions waiting in the mempool.");
        _blockInterval = factory.CreateHistogram("aitbc_node_block_time_seconds", "Time between consecutive blocks.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 12) });
        _blockTxs = factory.CreateHistogram("aitbc_node_block_txs", "Transactions per block.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 4, 9) });
        _rpc = factory.CreateCounter("aitbc_node_rpc_requests_total", "JSON-RPC calls by method and outcome.",
            new CounterConfiguration { LabelNames = ["method", "outcome"] });
    }

    public CollectorRegistry Registry { get; }

    public void Attach(Blockchain chain)
    {
        _height.Set(chain.Status.Height);
        Registry.AddBeforeCollectCallback(() => _mempool.Set(chain.MempoolCount));
        chain.BlockCommitted += (block, results) =>
        {
            _height.Set(block.Height);
            _txs.Inc(block.Txs.Count);
            _failedTxs.Inc(results.Count(r => !r.IsOk));
            _blockTxs.Observe(block.Txs.Count);
            if (DateTimeOffset.TryParse(block.Header.Time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
            {
                if (_lastBlock is { } last)
                {
                    _blockInterval.Observe((time - last).TotalSeconds);
                }
                _lastBlock = time;
            }
        };
    }

    public void RpcRequest(string method, bool ok) => _rpc.WithLabels(method, ok ? "ok" : "error").Inc();

    public void RpcRequests(string method, int count) => _rpc.WithLabels(method, "ok").Inc(count);
}
