using System.Text.Json;
using Aitbc.Node.Rpc;

namespace Aitbc.Node.Tests.Rpc;

/// <summary>
/// No request can make the node build an unbounded answer: a batch's answers stop at its byte budget, one call's at
/// its own limit, and <c>tx_search</c> at its work budget, each with an error naming the limit and its node option.
/// </summary>
public sealed class JsonRpcEndpointLimitsTests(BigBlockChain chain) : IClassFixture<BigBlockChain>
{
    private const string Block1 = """{"height":"1"}""";

    /// <summary>Room for one error answer, which is written even past a budget.</summary>
    private const int ErrorBytes = 400;

    private static List<JsonElement> Answers(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return [.. document.RootElement.EnumerateArray().Select(a => a.Clone())];
    }

    private static void AssertLimitError(JsonElement answer, int id, string option)
    {
        Assert.Equal(id, answer.GetProperty("id").GetInt32());
        Assert.False(answer.TryGetProperty("result", out _));
        var error = answer.GetProperty("error");
        Assert.Equal(RpcErrorCode.LimitExceeded, error.GetProperty("code").GetInt32());
        Assert.Equal("Limit exceeded", error.GetProperty("message").GetString());
        Assert.Contains(option, error.GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_batch_of_200_block_calls_stops_at_the_default_batch_budget_with_errors_naming_it()
    {
        var limits = new RpcLimits();
        var endpoint = chain.Endpoint(limits);
        var single = await BigBlockChain.SingleResultAsync(endpoint, "block", Block1);
        // Without a budget this batch's answer is 200 whole blocks: well past the default budget.
        Assert.True(200L * single.Length > 2 * limits.MaxBatchAnswerBytes, $"one block answer is only {single.Length} bytes");

        var body = await BigBlockChain.PostAsync(endpoint, BigBlockChain.Batch(Enumerable.Repeat(("block", Block1), 200)));

        Assert.True(body.Length <= limits.MaxBatchAnswerBytes + (200 * ErrorBytes), $"answer of {body.Length} bytes");
        var answers = Answers(body);
        Assert.Equal(200, answers.Count);
        var answered = answers.TakeWhile(a => a.TryGetProperty("result", out _)).Count();
        Assert.InRange(answered, 1, 199);
        for (var i = 0; i < answered; i++)
        {
            Assert.Equal(i, answers[i].GetProperty("id").GetInt32());
            Assert.Equal(single, answers[i].GetProperty("result").GetRawText());
        }
        // Every call past the budget, not only the one that crossed it, is refused: none of them was run.
        for (var i = answered; i < answers.Count; i++)
        {
            AssertLimitError(answers[i], i, "--rpc-max-batch-answer-bytes");
            Assert.Contains("16 MiB batch budget", answers[i].GetProperty("error").GetProperty("data").GetString());
        }
        Assert.True((answered + 1L) * single.Length > limits.MaxBatchAnswerBytes, "a call that fit was refused");
    }

    [Fact]
    public async Task A_batchs_first_call_is_answered_even_when_it_alone_passes_the_batch_budget()
    {
        var endpoint = chain.Endpoint(new RpcLimits { MaxBatchAnswerBytes = 1000 });
        var single = await BigBlockChain.SingleResultAsync(endpoint, "block", Block1);

        var answers = Answers(await BigBlockChain.PostAsync(endpoint, BigBlockChain.Batch([("block", Block1), ("health", "{}")])));

        Assert.Equal(single, answers[0].GetProperty("result").GetRawText());
        AssertLimitError(answers[1], 1, "--rpc-max-batch-answer-bytes");
        Assert.Contains("1000-byte batch budget", answers[1].GetProperty("error").GetProperty("data").GetString());
    }

    [Fact]
    public async Task An_answer_over_the_limit_of_one_call_is_refused_alone_in_a_batch_and_in_a_single_request()
    {
        var endpoint = chain.Endpoint(new RpcLimits { MaxAnswerBytes = 10_000 });

        var answers = Answers(await BigBlockChain.PostAsync(endpoint, BigBlockChain.Batch([("block", Block1), ("health", "{}"), ("block_results", Block1)])));
        using var single = JsonDocument.Parse(await BigBlockChain.PostAsync(endpoint, """{"jsonrpc":"2.0","id":5,"method":"block","params":{"height":"1"}}"""));

        AssertLimitError(answers[0], 0, "--rpc-max-answer-bytes");
        Assert.Equal("{}", answers[1].GetProperty("result").GetRawText());
        AssertLimitError(answers[2], 2, "--rpc-max-answer-bytes");
        AssertLimitError(single.RootElement, 5, "--rpc-max-answer-bytes");
        Assert.Contains("10000-byte limit of one call", single.RootElement.GetProperty("error").GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_batch_of_many_tx_searches_stops_at_the_batch_search_budget_with_errors_naming_it()
    {
        // Counting every transaction up to height 1 reads the whole block: several steps a call.
        const string Scan = """{"query":"tx.height<=1","per_page":"1"}""";
        var endpoint = chain.Endpoint(new RpcLimits { MaxBatchSearchSteps = 20 });
        var single = await BigBlockChain.SingleResultAsync(endpoint, "tx_search", Scan);

        var answers = Answers(await BigBlockChain.PostAsync(endpoint, BigBlockChain.Batch(Enumerable.Repeat(("tx_search", Scan), 100))));

        Assert.Equal(100, answers.Count);
        var answered = answers.TakeWhile(a => a.TryGetProperty("result", out _)).Count();
        Assert.InRange(answered, 1, 19);
        Assert.All(answers.Take(answered), a => Assert.Equal(single, a.GetProperty("result").GetRawText()));
        for (var i = answered; i < answers.Count; i++)
        {
            AssertLimitError(answers[i], i, "--rpc-max-batch-search-steps");
        }
    }

    [Fact]
    public async Task A_tx_search_over_the_search_budget_of_one_call_is_refused_and_names_it()
    {
        var endpoint = chain.Endpoint(new RpcLimits { MaxSearchSteps = 1 });

        using var answer = JsonDocument.Parse(await BigBlockChain.PostAsync(endpoint, """{"jsonrpc":"2.0","id":3,"method":"tx_search","params":{"query":"tx.height<=1"}}"""));

        AssertLimitError(answer.RootElement, 3, "--rpc-max-search-steps");
    }

    [Fact]
    public async Task Calls_under_the_default_limits_answer_in_a_batch_exactly_as_alone()
    {
        var endpoint = chain.Endpoint(new RpcLimits());
        var sender = $$"""{"query":"transfer.sender='{{chain.Wallets[0].Address.Value}}'","per_page":"100"}""";
        (string Method, string Params)[] calls =
            [("block", Block1), ("block_results", Block1), ("tx_search", sender), ("tx_search", """{"query":"tx.height>0","order_by":"desc"}"""), ("commit", Block1)];

        var answers = Answers(await BigBlockChain.PostAsync(endpoint, BigBlockChain.Batch(calls)));

        Assert.Equal(calls.Length, answers.Count);
        for (var i = 0; i < calls.Length; i++)
        {
            Assert.Equal(await BigBlockChain.SingleResultAsync(endpoint, calls[i].Method, calls[i].Params), answers[i].GetProperty("result").GetRawText());
        }
        using var found = JsonDocument.Parse(answers[2].GetProperty("result").GetRawText());
        Assert.Equal(BigBlockChain.TxsPerSender, found.RootElement.GetProperty("txs").GetArrayLength());
    }
}
