using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Aitbc.Core.Blocks;

namespace Aitbc.Core.Tests.Blocks;

public class BlockHeaderTests
{
    private static readonly string ZeroHash = new('0', 64);
    private static readonly string DataHash = Convert.ToHexString(SHA256.HashData("data"u8));
    private static readonly string AppHash = Convert.ToHexString(SHA256.HashData("app"u8));

    private static BlockHeader Header() => new(
        ChainId: "aitbc-test-1",
        Height: 5,
        Time: "2024-01-02T03:04:05.1234567Z",
        LastBlockHash: ZeroHash,
        DataHash: DataHash,
        AppHash: AppHash,
        ProposerAddress: TestKeys.Alice.PublicKey.HexAddress);

    private static string ExpectedCanonicalJson(BlockHeader h) =>
        $$"""{"app_hash":"{{h.AppHash}}","chain_id":"{{h.ChainId}}","data_hash":"{{h.DataHash}}","height":{{h.Height}},"last_block_hash":"{{h.LastBlockHash}}","proposer_address":"{{h.ProposerAddress}}","time":"{{h.Time}}"}""";

    [Fact]
    public void Canonical_bytes_are_jcs_with_snake_case_fields()
    {
        var header = Header();

        Assert.Equal(ExpectedCanonicalJson(header), Encoding.UTF8.GetString(header.CanonicalBytes()));
    }

    [Fact]
    public void Hash_is_upper_hex_sha256_of_the_canonical_json()
    {
        var header = Header();
        var expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ExpectedCanonicalJson(header))));

        Assert.Equal(expected, header.Hash());
    }

    [Fact]
    public void Hash_changes_with_every_field()
    {
        var header = Header();
        BlockHeader[] changed =
        [
            header with { ChainId = "other" },
            header with { Height = 6 },
            header with { Time = "2024-01-02T03:04:05.1234568Z" },
            header with { LastBlockHash = DataHash },
            header with { DataHash = AppHash },
            header with { AppHash = DataHash },
            header with { ProposerAddress = TestKeys.Bob.PublicKey.HexAddress },
        ];

        Assert.Equal(changed.Length + 1, changed.Select(h => h.Hash()).Append(header.Hash()).Distinct().Count());
    }

    [Fact]
    public void FormatTime_writes_utc_rfc3339_with_seven_fractional_digits()
    {
        var time = new DateTimeOffset(2024, 1, 2, 5, 4, 5, TimeSpan.FromHours(2)).AddTicks(1_234_567);

        Assert.Equal("2024-01-02T03:04:05.1234567Z", BlockHeader.FormatTime(time));
    }

    [Fact]
    public void FormatTime_keeps_trailing_zero_digits()
    {
        var time = new DateTimeOffset(2030, 12, 31, 23, 59, 59, TimeSpan.Zero);

        Assert.Equal("2030-12-31T23:59:59.0000000Z", BlockHeader.FormatTime(time));
    }

    [Fact]
    public void FormatTime_round_trips_through_DateTimeOffset_parsing()
    {
        var time = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.Zero).AddTicks(42);

        var parsed = DateTimeOffset.Parse(BlockHeader.FormatTime(time), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(time, parsed);
    }

    [Fact]
    public void FromJson_reads_the_canonical_form_back()
    {
        var header = Header();
        using var document = JsonDocument.Parse(header.CanonicalBytes());

        var read = BlockHeader.FromJson(document.RootElement);

        Assert.Equal(header, read);
        Assert.Equal(header.Hash(), read.Hash());
    }

    [Fact]
    public void FromJson_rejects_an_unknown_field()
    {
        using var document = JsonDocument.Parse(ExpectedCanonicalJson(Header())[..^1] + ",\"extra\":1}");

        Assert.Throws<JsonException>(() => BlockHeader.FromJson(document.RootElement));
    }

    [Fact]
    public void FromJson_rejects_a_missing_field()
    {
        using var document = JsonDocument.Parse("""{"chain_id":"c","height":1}""");

        Assert.Throws<JsonException>(() => BlockHeader.FromJson(document.RootElement));
    }

    [Fact]
    public void FromJson_rejects_a_height_written_as_a_string()
    {
        var json = ExpectedCanonicalJson(Header()).Replace("\"height\":5", "\"height\":\"5\"", StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);

        Assert.Throws<JsonException>(() => BlockHeader.FromJson(document.RootElement));
    }
}
