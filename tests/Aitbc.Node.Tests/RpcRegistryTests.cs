using System.Text;
using System.Text.Json;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;
using Aitbc.Node.Rpc;

namespace Aitbc.Node.Tests;

/// <summary>The registry binds each module method once at start-up: wire name, parameters by name, result through the contracts.</summary>
public sealed class RpcRegistryTests
{
    private sealed class Broadcasts : IRpcModule
    {
        public async Task<ResultBroadcastTx> broadcast_tx_sync(byte[]? tx, [RpcHash] string? hash, long? height, string? log, CancellationToken cancellationToken)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            return new ResultBroadcastTx((uint)(height ?? 0), tx, log ?? "", "", hash ?? "");
        }

        public ResultHealth health() => new();

        internal ResultHealth not_served() => new();
    }

    private sealed class AnotherHealth : IRpcModule
    {
        public ResultHealth health() => new();
    }

    private sealed class NotAContract : IRpcModule
    {
        public Uri where() => new("http://127.0.0.1/");
    }

    private sealed class UnreadableParameter : IRpcModule
    {
        public ResultHealth health(int height) => new();
    }

    [Fact]
    public void Every_public_method_a_module_declares_is_served_under_its_own_name()
    {
        var registry = new RpcRegistry([new Broadcasts()], ContractJson.Server);

        Assert.Equal(["broadcast_tx_sync", "health"], registry.Names.Order(StringComparer.Ordinal));
        Assert.False(registry.TryGet("not_served", out _));
        Assert.False(registry.TryGet("Health", out _));
    }

    [Fact]
    public async Task Parameters_are_read_by_name_and_the_awaited_result_is_written_as_its_contract()
    {
        var registry = new RpcRegistry([new Broadcasts()], ContractJson.Server);
        Assert.True(registry.TryGet("broadcast_tx_sync", out var method));
        using var parameters = JsonDocument.Parse($$"""{"log":"it's","height":"7","hash":"0x{{new string('a', 64)}}","tx":"AQI=","unknown":[1]}""");

        var answer = await method.InvokeAsync(RpcParams.FromJson(parameters.RootElement), CancellationToken.None);

        Assert.Null(answer.Error);
        Assert.Equal($$"""{"code":7,"data":"AQI=","log":"it's","codespace":"","hash":"{{new string('A', 64)}}"}""", Write(answer));
    }

    [Fact]
    public async Task A_parameter_that_does_not_read_is_refused_as_invalid_params()
    {
        var registry = new RpcRegistry([new Broadcasts()], ContractJson.Server);
        Assert.True(registry.TryGet("broadcast_tx_sync", out var method));
        using var parameters = JsonDocument.Parse("""{"height":"seven"}""");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await method.InvokeAsync(RpcParams.FromJson(parameters.RootElement), CancellationToken.None));

        Assert.Equal(RpcErrorCode.InvalidParams, error.Code);
        Assert.Contains("height", error.Detail);
    }

    [Fact]
    public void Two_modules_serving_one_name_are_refused_at_start_up()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RpcRegistry([new Broadcasts(), new AnotherHealth()], ContractJson.Server));

        Assert.Contains("health", error.Message);
    }

    [Fact]
    public void A_result_without_contract_metadata_is_refused_at_start_up()
    {
        Assert.Throws<NotSupportedException>(() => new RpcRegistry([new NotAContract()], ContractJson.Server));
    }

    [Fact]
    public void A_parameter_of_a_type_without_a_reader_is_refused_at_start_up()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new RpcRegistry([new UnreadableParameter()], ContractJson.Server));

        Assert.Contains("height", error.Message);
    }

    private static string Write(RpcAnswer answer)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            answer.WriteResult(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
