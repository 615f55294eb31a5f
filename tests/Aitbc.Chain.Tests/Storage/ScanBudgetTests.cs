using Aitbc.Chain.Storage;
using Aitbc.Chain.Tests.Support;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Storage;

/// <summary>A search given a <see cref="ScanBudget"/> stops once it has spent it, and leaves no trace on the store's connections.</summary>
public sealed class ScanBudgetTests : IAsyncLifetime
{
    private const int Transfers = 300;

    private static readonly (string Key, string Op, string Value)[] WholeChain = [("tx.height", "<=", "10")];

    private readonly TestChain _chain = TestChain.Validator();

    private ChainStore Store => _chain.Chain.Store;

    public async Task InitializeAsync() =>
        await _chain.CommitAsync([.. Enumerable.Range(0, Transfers).Select(_ => _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)))]);

    public Task DisposeAsync()
    {
        _chain.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void A_search_within_its_budget_answers_as_without_one_and_counts_the_steps_it_spent()
    {
        var budget = new ScanBudget(1_000);

        var (page, total) = Store.SearchTxs(WholeChain, 1, 30, descending: true, budget);

        var (unbudgeted, unbudgetedTotal) = Store.SearchTxs(WholeChain, 1, 30, descending: true);
        Assert.Equal(Transfers, total);
        Assert.Equal(unbudgetedTotal, total);
        Assert.Equal(unbudgeted.Select(t => t.Hash), page.Select(t => t.Hash));
        Assert.InRange(budget.Used, 1, 999);
        Assert.Equal(1_000 - budget.Used, budget.Remaining);
    }

    [Fact]
    public void A_search_past_its_budget_stops_and_the_next_search_on_the_pooled_connection_is_not_held_to_it()
    {
        var budget = new ScanBudget(0);

        var stopped = Assert.Throws<ScanBudgetExceededException>(() => Store.SearchTxs(WholeChain, 1, 30, descending: false, budget));

        Assert.Equal(0, stopped.Steps);
        Assert.True(budget.Exhausted);
        Assert.Equal(Transfers, Store.SearchTxs(WholeChain, 1, 30, descending: false).Total);
    }

    [Fact]
    public void Searches_drawing_on_a_shared_budget_stop_once_together_they_have_spent_it()
    {
        var shared = new ScanBudget(4);
        var answered = 0;

        var stopped = Assert.Throws<ScanBudgetExceededException>(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                Store.SearchTxs(WholeChain, 1, 30, descending: false, new ScanBudget(1_000, shared));
                answered++;
            }
        });

        Assert.InRange(answered, 1, 4);
        Assert.True(shared.Exhausted);
        Assert.Equal(4, shared.Used);
        Assert.True(stopped.Steps <= 4);
    }
}
