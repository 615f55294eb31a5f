using System.Text.Json.Nodes;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Wallets;
using Aitbc.Core.Crypto;

namespace Aitbc.Cli.Tests;

/// <summary>The keystore format: sealed seed, stored KDF parameters, tamper detection.</summary>
public sealed class KeystoreTests
{
    private static readonly KdfParameters Cheap = new(64, 1);

    [Fact]
    public void A_sealed_seed_opens_with_its_password_under_the_parameters_stored_in_the_file()
    {
        using var key = Ed25519KeyPair.Generate();

        var file = KeystoreFile.Seal("k", key, "pw", Cheap, DateTimeOffset.UnixEpoch);
        using var opened = file.Unseal("pw");

        Assert.Equal(key.ExportSeed(), opened.ExportSeed());
        Assert.Equal((64, 1, 1, "argon2id"), (file.Kdf.MemoryKib, file.Kdf.Iterations, file.Kdf.Parallelism, file.Kdf.Algorithm));
        Assert.Equal(key.Address.Value, file.Address);
    }

    [Fact]
    public void Two_keystores_of_one_key_differ_in_salt_nonce_and_ciphertext()
    {
        using var key = Ed25519KeyPair.Generate();

        var a = KeystoreFile.Seal("a", key, "pw", Cheap, DateTimeOffset.UnixEpoch);
        var b = KeystoreFile.Seal("b", key, "pw", Cheap, DateTimeOffset.UnixEpoch);

        Assert.NotEqual(a.Kdf.Salt, b.Kdf.Salt);
        Assert.NotEqual(a.Cipher.Nonce, b.Cipher.Nonce);
        Assert.NotEqual(a.Cipher.Ciphertext, b.Cipher.Ciphertext);
    }

    [Fact]
    public void An_edited_address_makes_the_file_fail_to_open()
    {
        using var key = Ed25519KeyPair.Generate();
        using var other = Ed25519KeyPair.Generate();
        var file = KeystoreFile.Seal("k", key, "pw", Cheap, DateTimeOffset.UnixEpoch) with { Address = other.Address.Value };

        Assert.Throws<CliAuthException>(() => file.Unseal("pw"));
    }

    [Fact]
    public void The_default_cost_is_moderate()
    {
        Assert.Equal(64 * 1024, KdfParameters.Default.MemoryKib);
        Assert.Equal(3, KdfParameters.Default.Iterations);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("")]
    public void Wallet_names_cannot_leave_the_wallets_folder(string name) =>
        Assert.Throws<CliUsageException>(() => WalletStore.CheckName(name));

    [Fact]
    public void A_saved_keystore_round_trips_through_the_store()
    {
        var dir = Path.Combine(Path.GetTempPath(), "aitbc-keystore-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var key = Ed25519KeyPair.Generate();
            var store = new WalletStore(dir);
            store.Save(KeystoreFile.Seal("k", key, "pw", Cheap, DateTimeOffset.UnixEpoch));

            var json = JsonNode.Parse(File.ReadAllText(store.PathOf("k")))!;
            using var opened = store.Load("k").Unseal("pw");

            Assert.Equal(key.Address, opened.Address);
            Assert.Equal("xchacha20poly1305", json["cipher"]!["algorithm"]!.GetValue<string>());
            Assert.Throws<CliUsageException>(() => store.Save(KeystoreFile.Seal("k", key, "pw", Cheap, DateTimeOffset.UnixEpoch)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
