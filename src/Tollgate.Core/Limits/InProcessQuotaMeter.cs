using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Tollgate.Metering;

namespace Tollgate.Limits;

/// <summary>
/// The embedded quota meter. Each (organization, month) has one small state: a counter per model and one for the
/// organization's total, guarded by the organization's own lock, so a decision over the model pool and the
/// organization cap is one atomic step and organizations never contend. The state is seeded from the ledger the first
/// time the organization is seen in a month (one read, shared by the requests that arrive meanwhile); a read that
/// fails is not remembered, so the next request tries again. A new month is a new state: rollover needs no sweep.
/// </summary>
internal sealed class InProcessQuotaMeter(IUsageLedger ledger) : IQuotaMeter
{
    private readonly ConcurrentDictionary<(string OrgId, int Month), Task<OrgMonth>> _months = new();
    private long _nextId;

    public ValueTask<QuotaGrant> ReserveAsync(QuotaReservation reservation, long ms, ReserveMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ms);
        if (reservation.Id == 0)
        {
            reservation = reservation with { Id = Interlocked.Increment(ref _nextId) };
        }
        var pending = Month(reservation.Scope);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<QuotaGrant>(pending.Result.Reserve(reservation, ms, mode))
            : ReserveSlowAsync(pending, reservation, ms, mode);
    }

    private static async ValueTask<QuotaGrant> ReserveSlowAsync(Task<OrgMonth> pending, QuotaReservation reservation, long ms, ReserveMode mode) =>
        (await pending.ConfigureAwait(false)).Reserve(reservation, ms, mode);

    public ValueTask CommitAsync(QuotaReservation reservation, long chargedMs, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chargedMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chargedMs, reservation.Milliseconds);
        Settled(reservation)?.Settle(reservation, chargedMs);
        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(QuotaReservation reservation, CancellationToken cancellationToken = default)
    {
        Settled(reservation)?.Settle(reservation, 0);
        return ValueTask.CompletedTask;
    }

    public ValueTask<QuotaStanding> StandingAsync(QuotaScope scope, CancellationToken cancellationToken = default)
    {
        var pending = Month(scope);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<QuotaStanding>(pending.Result.Standing(scope))
            : StandingSlowAsync(pending, scope);
    }

    private static async ValueTask<QuotaStanding> StandingSlowAsync(Task<OrgMonth> pending, QuotaScope scope) =>
        (await pending.ConfigureAwait(false)).Standing(scope);

    public async ValueTask<PoolUsage> UsageAsync(PoolKey pool, MonthPeriod period, CancellationToken cancellationToken = default)
    {
        var month = await Month(new QuotaScope(pool.OrgId, pool.Model, period, 0, 0)).ConfigureAwait(false);
        return month.Usage(pool.Model);
    }

    /// <summary>The state a reservation was taken from (it exists: reserving created it).</summary>
    private OrgMonth? Settled(in QuotaReservation reservation)
    {
        if (reservation.Milliseconds == 0)
        {
            return null;
        }
        return _months.TryGetValue((reservation.Scope.OrgId, reservation.Scope.Period.Index), out var task) && task.IsCompletedSuccessfully
            ? task.Result
            : throw new InvalidOperationException("A reservation is settled by the meter that granted it.");
    }

    private Task<OrgMonth> Month(in QuotaScope scope)
    {
        var key = (scope.OrgId, scope.Period.Index);
        if (_months.TryGetValue(key, out var existing) && !existing.IsFaulted && !existing.IsCanceled)
        {
            return existing;
        }
        return Load(key, scope.Period);
    }

    private Task<OrgMonth> Load((string OrgId, int Month) key, MonthPeriod period)
    {
        var fresh = new TaskCompletionSource<OrgMonth>(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            if (_months.TryGetValue(key, out var existing))
            {
                if (!existing.IsFaulted && !existing.IsCanceled)
                {
                    return existing;
                }
                // A failed read is not remembered: take its place and read again.
                if (!_months.TryUpdate(key, fresh.Task, existing))
                {
                    continue;
                }
            }
            else if (!_months.TryAdd(key, fresh.Task))
            {
                continue;
            }
            _ = SeedAsync(fresh, key.OrgId, period);
            return fresh.Task;
        }
    }

    private async Task SeedAsync(TaskCompletionSource<OrgMonth> target, string orgId, MonthPeriod period)
    {
        try
        {
            var totals = await ledger.MonthTotalsAsync(orgId, period).ConfigureAwait(false);
            target.TrySetResult(new OrgMonth(totals));
        }
        catch (Exception ex)
        {
            target.TrySetException(ex);
        }
    }

    /// <summary>One organization's counters for one month; every field guarded by <see cref="_gate"/>.</summary>
    private sealed class OrgMonth
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Counter> _models = new(StringComparer.Ordinal);
        private Counter _all;

        public OrgMonth(IReadOnlyList<ModelUsageTotal> committed)
        {
            foreach (var total in committed)
            {
                _models[total.Model] = new Counter { Committed = total.Milliseconds };
                _all.Committed += total.Milliseconds;
            }
        }

        public QuotaGrant Reserve(QuotaReservation reservation, long ms, ReserveMode mode)
        {
            var scope = reservation.Scope;
            lock (_gate)
            {
                ref var model = ref CollectionsMarshal.GetValueRefOrAddDefault(_models, scope.Model, out _);
                var modelRoom = Math.Max(0, scope.LimitMs - model.Used);
                var orgRoom = scope.HasOrganizationCap ? Math.Max(0, scope.OrgCapMs - _all.Used) : long.MaxValue;
                var room = Math.Min(modelRoom, orgRoom);
                var granted = mode == ReserveMode.Exact ? (ms <= room ? ms : 0) : Math.Min(ms, room);
                model.Reserved += granted;
                _all.Reserved += granted;
                return new QuotaGrant(reservation with { Milliseconds = reservation.Milliseconds + granted }, granted, room - granted, orgRoom < modelRoom);
            }
        }

        public void Settle(in QuotaReservation reservation, long chargedMs)
        {
            lock (_gate)
            {
                ref var model = ref CollectionsMarshal.GetValueRefOrAddDefault(_models, reservation.Scope.Model, out _);
                model.Reserved -= reservation.Milliseconds;
                model.Committed += chargedMs;
                _all.Reserved -= reservation.Milliseconds;
                _all.Committed += chargedMs;
            }
        }

        public QuotaStanding Standing(in QuotaScope scope)
        {
            lock (_gate)
            {
                var modelUsed = _models.TryGetValue(scope.Model, out var model) ? model.Used : 0;
                var modelRoom = Math.Max(0, scope.LimitMs - modelUsed);
                var orgRoom = scope.HasOrganizationCap ? Math.Max(0, scope.OrgCapMs - _all.Used) : long.MaxValue;
                return new QuotaStanding(Math.Min(modelRoom, orgRoom), orgRoom < modelRoom);
            }
        }

        public PoolUsage Usage(string model)
        {
            lock (_gate)
            {
                var counter = model == QuotaScope.AllModels ? _all : _models.GetValueOrDefault(model);
                return new PoolUsage(counter.Committed, counter.Reserved);
            }
        }

        private struct Counter
        {
            public long Committed;
            public long Reserved;

            public readonly long Used => Committed + Reserved;
        }
    }
}
