using System.Text;
using System.Text.Json.Nodes;
using Aitbc.Core.Crypto;

namespace Aitbc.Core.Tests.Crypto;

/// <summary>Service key files: 0600 from the first byte, in clear or sealed under a passphrase, and loud when wrong.</summary>
public sealed class KeyFileTests : IDisposable
{
    private static readonly KdfParameters Cheap = new(64, 1);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aitbc-keyfile-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_clear_key_round_trips_and_is_owner_only()
    {
        using var key = Ed25519KeyPair.Generate();
        var path = Path.Combine(_dir, "config", "clear.json");
        KeyFile.Save(path, key);

        using var loaded = KeyFile.Load(path, passphrase: "ignored for a clear file");
        Assert.Equal(key.PublicKey.Base64, loaded.PublicKey.Base64);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.Throws<IOException>(() => KeyFile.Save(path, key));
    }

    [Fact]
    public void A_sealed_key_holds_no_seed_and_opens_only_with_its_passphrase()
    {
        using var key = Ed25519KeyPair.Generate();
        var path = Path.Combine(_dir, "sealed.json");
        KeyFile.Save(path, key, "correct horse battery staple", Cheap);

        var bytes = File.ReadAllBytes(path);
        Assert.True(KeyFileFormat.IsSealed(bytes));
        var seed = key.ExportSeed();
        Assert.DoesNotContain(Convert.ToBase64String(seed), Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.True(bytes.AsSpan().IndexOf(seed) < 0);
        Assert.Null(JsonNode.Parse(bytes)!["priv_key"]);

        using var opened = KeyFile.Load(path, "correct horse battery staple");
        Assert.Equal(key.PublicKey.Base64, opened.PublicKey.Base64);

        var none = Assert.Throws<InvalidDataException>(() => KeyFile.Load(path, passphrase: null));
        Assert.Contains(KeyFile.PassphraseVariable, none.Message, StringComparison.Ordinal);
        Assert.Contains(path, none.Message, StringComparison.Ordinal);
        var wrong = Assert.Throws<InvalidDataException>(() => KeyFile.Load(path, "wrong"));
        Assert.Contains("wrong passphrase", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sealed_file_whose_address_or_key_was_edited_does_not_open()
    {
        using var key = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        var json = JsonNode.Parse(KeyFileFormat.Serialize(key, "pw", Cheap))!;
        json["address"] = other.Address.Value;
        Assert.Throws<InvalidDataException>(() => KeyFileFormat.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "edited", "pw"));

        json = JsonNode.Parse(KeyFileFormat.Serialize(key, "pw", Cheap))!;
        json["pub_key"] = other.PublicKey.Base64;
        Assert.Throws<InvalidDataException>(() => KeyFileFormat.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "edited", "pw"));

        // A hostile cost (terabytes of memory) is refused before any work, not attempted.
        json = JsonNode.Parse(KeyFileFormat.Serialize(key, "pw", Cheap))!;
        json["kdf"]!["memory_kib"] = int.MaxValue;
        Assert.Throws<InvalidDataException>(() => KeyFileFormat.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "costly", "pw"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("""{"address":"a","pub_key":"b"}""")]
    [InlineData("""{"address":"a","pub_key":"b","priv_key":"not base64!"}""")]
    [InlineData("""{"address":"a","pub_key":"b","priv_key":"AAAA"}""")]
    [InlineData("""{"address":"a","pub_key":"b","kdf":{"algorithm":"argon2id","memory_kib":64,"iterations":1,"parallelism":1,"salt":"%%"},"cipher":{"algorithm":"xchacha20poly1305","nonce":"AA==","ciphertext":"AA=="}}""")]
    public void Damaged_files_are_invalid_data_naming_the_file(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => KeyFileFormat.Parse(Encoding.UTF8.GetBytes(text), "damaged.json", "pw"));
        Assert.Contains("damaged.json", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}
