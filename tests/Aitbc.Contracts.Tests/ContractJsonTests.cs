using System.Reflection;
using System.Text.Json;
using Aitbc.Contracts.Coordinator;
using Aitbc.Contracts.Node;

namespace Aitbc.Contracts.Tests;

public sealed class ContractJsonTests
{
    private const string Heartbeat = """{"models":["m"],"in_flight":1}""";

    [Fact]
    public void Every_contract_record_has_generated_metadata()
    {
        var records = typeof(ContractJson).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.GetProperty("EqualityContract", BindingFlags.NonPublic | BindingFlags.Instance) is not null)
            .ToList();

        Assert.NotEmpty(records);
        Assert.All(records, t => Assert.True(ContractJsonContext.Default.GetTypeInfo(t) is not null, $"{t.Name} has no [JsonSerializable] metadata"));
    }

    [Fact]
    public void The_server_reads_a_request_as_sent()
    {
        var heartbeat = JsonSerializer.Deserialize<MinerHeartbeat>(Heartbeat, ContractJson.Server)!;

        Assert.Equal(["m"], heartbeat.Models);
        Assert.Equal(1, heartbeat.InFlight);
        Assert.Null(heartbeat.GpuUtilization);
    }

    [Theory]
    [InlineData("""{"models":["m"],"in_flight":1,"extra":true}""")]
    [InlineData("""{"models":["m"],"in_flight":1,"in_flight":2}""")]
    [InlineData("""{"models":["m"]}""")]
    [InlineData("""{"models":["m"],"in_flight":"1"}""")]
    public void The_server_refuses_unknown_duplicate_and_missing_members_and_numbers_in_strings(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<MinerHeartbeat>(json, ContractJson.Server));
    }

    [Fact]
    public void The_client_skips_members_it_does_not_know_and_reads_left_out_nullable_ones_as_null()
    {
        var json = """{"job_id":"j","status":"pending","model":"m","max_price":"1","submitted_at":"t","deadline":"d","new_field":{"a":1}}""";

        var view = JsonSerializer.Deserialize<JobView>(json, ContractJson.Client)!;

        Assert.Equal("j", view.JobId);
        Assert.Null(view.Result);
        Assert.Null(view.Miner);
    }

    [Fact]
    public void The_client_refuses_a_left_out_member_whose_type_is_not_nullable()
    {
        var json = """{"status":"pending","model":"m","max_price":"1","submitted_at":"t","deadline":"d"}""";

        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<JobView>(json, ContractJson.Client));

        Assert.Contains("'job_id'", error.Message);
    }

    [Fact]
    public void Rest_nulls_are_left_out()
    {
        var json = JsonSerializer.Serialize(new JobAccepted("j", "pending", "t"), ContractJson.Server);
        var view = JsonSerializer.Serialize(new JobView("j", "pending", "m", "1", null, null, null, null, "t", null, null, "d"), ContractJson.Server);

        Assert.Equal("""{"job_id":"j","status":"pending","submitted_at":"t"}""", json);
        Assert.Equal("""{"job_id":"j","status":"pending","model":"m","max_price":"1","submitted_at":"t","deadline":"d"}""", view);
    }

    [Fact]
    public void Comet_results_keep_64_bit_integers_as_strings_32_bit_ones_as_numbers_and_their_explicit_nulls()
    {
        var tx = new ResultTx("AB", 7, 2, new CometExecTxResult(5, Log: "no"), [1, 2]);
        var mempool = new ResultUnconfirmedTxs(0, 3, 120, null);

        Assert.Equal(
            """{"hash":"AB","height":"7","index":2,"tx_result":{"code":5,"data":null,"log":"no","info":"","gas_wanted":"0","gas_used":"0","codespace":""},"tx":"AQI="}""",
            JsonSerializer.Serialize(tx, ContractJson.Server));
        Assert.Equal("""{"n_txs":"0","total":"3","total_bytes":"120","txs":null}""", JsonSerializer.Serialize(mempool, ContractJson.Server));
    }

    [Fact]
    public void The_client_reads_comet_integers_from_strings_or_numbers_and_fields_comet_leaves_out_as_empty()
    {
        var tx = JsonSerializer.Deserialize<ResultTx>("""{"hash":"AB","height":7,"index":"2","tx_result":{},"tx":"AQI="}""", ContractJson.Client)!;

        Assert.Equal(7, tx.Height);
        Assert.Equal(2, tx.Index);
        Assert.Equal(new CometExecTxResult(), tx.TxResult);
    }
}
