using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Tests.Chain;

/// <summary>The rows the submission writer holds back from the outbox worker while it takes them to the node itself.</summary>
public sealed class HeldOutboxRowsTests
{
    private readonly OutboxSignal _signal = new();

    private static OutboxRecord Row(long id, string kind = OutboxKind.SubmitJob) =>
        new(id, $"job_{id}", kind, "{}", OutboxStatus.Pending, 0, null, null, null, null, null, 0, 0, null);

    private static long[] Ids(IReadOnlyList<OutboxRecord> rows) => [.. rows.Select(r => r.Id)];

    [Fact]
    public void With_nothing_held_every_due_row_is_deliverable()
    {
        var held = new HeldOutboxRows(_signal);
        Assert.Equal([1, 2, 3], Ids(held.Deliverable([Row(1), Row(2), Row(3)])));
        Assert.False(held.Holds(Row(long.MaxValue - 1)));
    }

    [Fact]
    public void While_a_group_is_being_stored_every_row_waits_and_once_named_only_its_rows_and_those_after_them_wait()
    {
        var held = new HeldOutboxRows(_signal);
        using var hold = held.HoldNew();
        Assert.Empty(held.Deliverable([Row(1), Row(2)]));
        Assert.True(held.Holds(Row(1)));

        hold.Narrow([3, 4]);
        // Row 5 (a refund queued after the group) must not overtake the group's escrows.
        Assert.Equal([1, 2], Ids(held.Deliverable([Row(1), Row(2), Row(3), Row(4), Row(5, OutboxKind.RefundJob)])));
        Assert.False(held.Holds(Row(2)));
        Assert.True(held.Holds(Row(3)));
    }

    [Fact]
    public void The_lowest_of_two_holds_counts_and_letting_one_go_moves_the_floor_up()
    {
        var held = new HeldOutboxRows(_signal);
        var first = held.HoldNew();
        first.Narrow([10, 11]);
        using var second = held.HoldNew();
        second.Narrow([12, 13]);
        Assert.Equal(10, held.From);

        first.Dispose();
        Assert.Equal(12, held.From);
        Assert.Equal([10, 11], Ids(held.Deliverable([Row(10), Row(11), Row(12)])));
        second.Dispose();
        Assert.Equal(long.MaxValue, held.From);
    }

    [Fact]
    public async Task A_worker_kept_from_a_row_of_its_own_behind_a_held_one_is_woken_when_the_hold_ends()
    {
        var held = new HeldOutboxRows(_signal);
        var hold = held.HoldNew();
        hold.Narrow([1, 2]);
        Assert.Empty(held.Deliverable([Row(1), Row(2), Row(3, OutboxKind.RecordReceipt)]));

        hold.Dispose();
        Assert.True(await _signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));
    }

    [Fact]
    public async Task A_worker_that_saw_only_held_rows_is_not_woken_for_them_because_the_writer_records_them_itself()
    {
        var held = new HeldOutboxRows(_signal);
        var hold = held.HoldNew();
        hold.Narrow([1, 2]);
        Assert.Empty(held.Deliverable([Row(1), Row(2)]));

        hold.Dispose();
        hold.Dispose();
        Assert.False(await _signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, default));
    }
}
