using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Aitbc.Coordinator.Cluster;

/// <summary>
/// Carries wake-ups between coordinator processes sharing one PostgreSQL database, over LISTEN/NOTIFY: a queued outbox
/// row (wakes the chain writer, wherever it runs), a scheduler kick, a job's change (wakes long-polls on it) and the
/// chain writer's escrow decisions (answer submissions waiting in other processes). Notifications are hints: every
/// worker still polls, so one lost while a connection is down delays work by a poll interval, never loses it; after the
/// listening connection comes back, every local worker is woken once.
/// </summary>
public sealed class ClusterBus : BackgroundService
{
    private const string OutboxChannel = "aitbc_outbox";
    private const string SchedulerChannel = "aitbc_scheduler";
    private const string JobChannel = "aitbc_job";
    private const string DecisionChannel = "aitbc_decision";

    /// <summary>PostgreSQL takes payloads under 8,000 bytes; decisions are packed into notifications of at most this much.</summary>
    private const int MaxPayload = 7000;

    /// <summary>Notifications sent in one statement at most.</summary>
    private const int MaxBatch = 200;

    private readonly string _connectionString;
    private readonly OutboxSignal _outbox;
    private readonly SchedulerSignal _scheduler;
    private readonly JobSignals _jobs;
    private readonly SubmitDecisions _decisions;
    private readonly CoordinatorOptions _options;
    private readonly ILogger<ClusterBus> _logger;
    private readonly Channel<(string Channel, string Payload)> _outgoing = Channel.CreateUnbounded<(string, string)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>This process's id in its own notifications, so that it ignores them when they come back.</summary>
    private readonly string _self = Guid.NewGuid().ToString("N")[..12];

    public ClusterBus(string connectionString, OutboxSignal outbox, SchedulerSignal scheduler, JobSignals jobs, SubmitDecisions decisions, CoordinatorOptions options, ILogger<ClusterBus> logger)
    {
        _connectionString = connectionString;
        _outbox = outbox;
        _scheduler = scheduler;
        _jobs = jobs;
        _decisions = decisions;
        _options = options;
        _logger = logger;
        outbox.Relay = () => Post(OutboxChannel, "");
        scheduler.Relay = () => Post(SchedulerChannel, "");
        jobs.Relay = jobId => Post(JobChannel, jobId);
        decisions.Published += RelayDecisions;
    }

    private void Post(string channel, string payload) => _outgoing.Writer.TryWrite((channel, payload.Length == 0 ? _self : $"{_self}|{payload}"));

    private void RelayDecisions(IReadOnlyList<(string JobId, SubmitDecision Decision)> decisions)
    {
        var batch = new List<WireDecision>();
        var size = 0;
        foreach (var (jobId, decision) in decisions)
        {
            var wire = decision switch
            {
                SubmitDecision.Refused r => new WireDecision(jobId, "refused", (int)r.Code, Truncate(r.Log)),
                SubmitDecision.Unavailable u => new WireDecision(jobId, "unavailable", null, Truncate(u.Error)),
                _ => new WireDecision(jobId, "accepted", null, null),
            };
            var length = jobId.Length + (wire.Log?.Length ?? 0) + 40;
            if (size + length > MaxPayload && batch.Count > 0)
            {
                Post(DecisionChannel, JsonSerializer.Serialize(batch));
                batch = [];
                size = 0;
            }
            batch.Add(wire);
            size += length;
        }
        if (batch.Count > 0)
        {
            Post(DecisionChannel, JsonSerializer.Serialize(batch));
        }
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..500];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Task.Run(() => ListenAsync(stoppingToken), stoppingToken), Task.Run(() => SendAsync(stoppingToken), stoppingToken));

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false, KeepAlive = 5 }.ConnectionString);
                await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                connection.Notification += (_, e) => Receive(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {OutboxChannel}; LISTEN {SchedulerChannel}; LISTEN {JobChannel}; LISTEN {DecisionChannel};", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }
                // Anything announced while this process was not listening: every worker looks once.
                _outbox.KickLocal();
                _scheduler.KickLocal();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning("cluster notifications: listening failed, reconnecting: {Error}", e.Message);
                await DelayAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private void Receive(string channel, string payload)
    {
        var bar = payload.IndexOf('|', StringComparison.Ordinal);
        var sender = bar < 0 ? payload : payload[..bar];
        if (sender == _self)
        {
            return;
        }
        var body = bar < 0 ? "" : payload[(bar + 1)..];
        switch (channel)
        {
            case OutboxChannel:
                _outbox.KickLocal();
                break;
            case SchedulerChannel:
                _scheduler.KickLocal();
                break;
            case JobChannel:
                _jobs.NotifyLocal(body);
                break;
            case DecisionChannel:
                try
                {
                    var wire = JsonSerializer.Deserialize<List<WireDecision>>(body) ?? [];
                    _decisions.Deliver([.. wire.Select(w => (w.JobId, w.Kind switch
                    {
                        "refused" => (SubmitDecision)new SubmitDecision.Refused((TxCode)(w.Code ?? 0), w.Log ?? ""),
                        "unavailable" => new SubmitDecision.Unavailable(w.Log ?? ""),
                        _ => new SubmitDecision.Accepted(),
                    }))]);
                }
                catch (JsonException e)
                {
                    _logger.LogWarning("cluster notifications: unreadable decision: {Error}", e.Message);
                }
                break;
        }
    }

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                // Kicks posted together collapse into one: a worker woken once looks at everything.
                var batch = new HashSet<(string, string)>();
                while (batch.Count < MaxBatch && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
                try
                {
                    await NotifyAsync(batch, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    // Hints only: the other processes' polls find the work.
                    _logger.LogWarning("cluster notifications: sending {Count} failed: {Error}", batch.Count, e.Message);
                    await DelayAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task NotifyAsync(IReadOnlyCollection<(string Channel, string Payload)> batch, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = new StringBuilder("SELECT ");
        await using var command = new NpgsqlCommand { Connection = connection };
        var i = 0;
        foreach (var (channel, payload) in batch)
        {
            sql.Append(i == 0 ? "" : ", ").Append($"pg_notify(@c{i}, @p{i})");
            command.Parameters.AddWithValue($"c{i}", channel);
            command.Parameters.AddWithValue($"p{i}", payload);
            i++;
        }
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task DelayAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(_options.WriterRetryInterval, _options.Time, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record WireDecision(string JobId, string Kind, int? Code, string? Log);
}
