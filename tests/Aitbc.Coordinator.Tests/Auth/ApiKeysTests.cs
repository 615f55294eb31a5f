using Aitbc.Coordinator.Auth;

namespace Aitbc.Coordinator.Tests.Auth;

public sealed class ApiKeysTests
{
    [Fact]
    public void Generated_keys_are_distinct_carry_their_id_and_match_only_their_own_hash()
    {
        var (id1, key1) = ApiKeys.Generate();
        var (id2, key2) = ApiKeys.Generate();
        Assert.NotEqual(key1, key2);
        Assert.Equal(id1, ApiKeys.IdOf(key1));
        Assert.Equal(id2, ApiKeys.IdOf(key2));
        // 32 random bytes in base64url: 43 characters after the id.
        Assert.Equal(43, key1.Length - key1.IndexOf('.', StringComparison.Ordinal) - 1);
        Assert.True(ApiKeys.Matches(key1, ApiKeys.Hash(key1)));
        Assert.False(ApiKeys.Matches(key2, ApiKeys.Hash(key1)));
        Assert.False(ApiKeys.Matches(key1, "not-a-hash"));
    }

    [Theory]
    [InlineData("some-operator-chosen-admin-key")]
    [InlineData("ak_short.secret")]
    public void Keys_without_an_id_can_only_be_the_bootstrap_admin(string key) =>
        Assert.Equal(ApiKeys.BootstrapAdminId, ApiKeys.IdOf(key));
}
