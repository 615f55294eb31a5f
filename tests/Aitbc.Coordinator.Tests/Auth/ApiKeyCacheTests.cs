using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Coordinator.Tests.Auth;

/// <summary>
/// <see cref="ApiKeyCache"/> over a real SQLite store, with a second store on the same file playing another coordinator
/// that shares the database, and a fake clock for the TTL.
/// </summary>
public sealed class ApiKeyCacheTests : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    private readonly string _dir = TempDir.Create("api-key-cache");
    private readonly FakeTimeProvider _time = new();
    private CoordinatorStore _store = null!;
    private CoordinatorStore _otherCoordinator = null!;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "coordinator.db");
        _store = CoordinatorStore.Create(null, path);
        await _store.MigrateAsync(default);
        _otherCoordinator = CoordinatorStore.Create(null, path);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _otherCoordinator.DisposeAsync();
        TempDir.Delete(_dir);
    }

    private ApiKeyCache Cache(int capacity = 100) => new(_store, new CoordinatorOptions { Time = _time, ApiKeyCacheTtl = Ttl, ApiKeyCacheCapacity = capacity });

    private async Task<string> InsertKeyAsync()
    {
        var (id, key) = ApiKeys.Generate();
        await _store.InsertApiKeyAsync(new ApiKeyRecord(id, Roles.Client, ApiKeys.Hash(key), "aitbc1client", null, 1), default);
        return id;
    }

    [Fact]
    public async Task A_key_revoked_by_another_coordinator_is_seen_once_the_ttl_has_passed()
    {
        var cache = Cache();
        var id = await InsertKeyAsync();
        var live = await cache.GetAsync(id, default);
        Assert.NotNull(live);

        Assert.True(await _otherCoordinator.RevokeApiKeyAsync(id, default));
        // Within the TTL the row held is answered without reading the database.
        Assert.Equal(live.KeyHash, (await cache.GetAsync(id, default))!.KeyHash);

        _time.Advance(Ttl);
        Assert.Equal("", (await cache.GetAsync(id, default))!.KeyHash);
    }

    [Fact]
    public async Task Invalidating_a_key_makes_the_next_lookup_read_its_row_again()
    {
        var cache = Cache();
        var id = await InsertKeyAsync();
        Assert.NotNull(await cache.GetAsync(id, default));
        Assert.True(await _otherCoordinator.RevokeApiKeyAsync(id, default));

        cache.Invalidate(id);

        Assert.Equal("", (await cache.GetAsync(id, default))!.KeyHash);
    }

    [Fact]
    public async Task Unknown_ids_are_held_apart_from_rows_and_at_most_their_capacity()
    {
        const int capacity = 20;
        var cache = new ApiKeyCache(_store, new CoordinatorOptions { Time = _time, ApiKeyCacheTtl = Ttl, UnknownKeyCacheCapacity = capacity });
        for (var i = 0; i < 50; i++)
        {
            Assert.Null(await cache.GetAsync(ApiKeys.IdOf(ApiKeys.Generate().Key), default));
            Assert.InRange(cache.UnknownCount, 1, capacity);
        }
        Assert.Equal(0, cache.Count);
        Assert.Equal(50, cache.Lookups);
    }

    [Fact]
    public async Task An_unknown_id_is_read_once_per_ttl_and_at_once_after_it_is_created_here()
    {
        var cache = new ApiKeyCache(_store, new CoordinatorOptions { Time = _time, ApiKeyCacheTtl = Ttl, UnknownKeyCacheTtl = TimeSpan.FromSeconds(10) });
        var (id, key) = ApiKeys.Generate();
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await cache.GetAsync(id, default));
        }
        Assert.Equal(1, cache.Lookups);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(await cache.GetAsync(id, default));
        Assert.Equal(2, cache.Lookups);

        // Created through this process (the admin endpoint invalidates the id): found on the next request, not after the TTL.
        await _store.InsertApiKeyAsync(new ApiKeyRecord(id, Roles.Client, ApiKeys.Hash(key), "aitbc1client", null, 1), default);
        cache.Invalidate(id);
        Assert.Equal(id, (await cache.GetAsync(id, default))?.Id);
    }

    [Fact]
    public async Task It_holds_at_most_its_capacity_and_answers_every_key_beyond_it()
    {
        const int capacity = 3;
        var cache = Cache(capacity);
        var ids = new List<string>();
        for (var i = 0; i < capacity + 4; i++)
        {
            ids.Add(await InsertKeyAsync());
        }

        for (var round = 0; round < 2; round++)
        {
            foreach (var id in ids)
            {
                Assert.Equal(id, (await cache.GetAsync(id, default))?.Id);
                Assert.True(cache.Count <= capacity, $"{cache.Count} rows held");
            }
            // Expired rows make room for others.
            _time.Advance(Ttl);
        }
        Assert.Equal(capacity, cache.Count);
    }

    [Fact]
    public async Task A_zero_ttl_holds_nothing()
    {
        var cache = new ApiKeyCache(_store, new CoordinatorOptions { Time = _time, ApiKeyCacheTtl = TimeSpan.Zero });
        var id = await InsertKeyAsync();
        Assert.NotNull(await cache.GetAsync(id, default));
        Assert.Equal(0, cache.Count);
    }
}
