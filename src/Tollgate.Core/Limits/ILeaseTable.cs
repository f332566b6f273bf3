namespace Tollgate.Limits;

/// <summary>
/// Concurrency leases per (organization, model) pool (DESIGN 3.2). <see cref="TryAcquireAsync"/> is atomic: it either
/// takes a slot while fewer than <c>limit</c> live leases are held, or takes nothing; it never waits. A lease lives
/// until it is disposed or until its time to live passes without a renewal, so a holder that dies (a crashed
/// request, a killed node) cannot lock a pool for longer than one TTL. A distributed implementation honours the
/// same contract in one round trip per call.
/// </summary>
public interface ILeaseTable
{
    /// <summary>Takes one slot of <paramref name="pool"/> if fewer than <paramref name="limit"/> live leases are held.</summary>
    /// <param name="pool">The (organization, model) pool.</param>
    /// <param name="limit">The caller's own limit: each request is judged by its key's value against the pooled count.</param>
    /// <param name="ttl">How long the lease lives without a renewal.</param>
    /// <param name="cancellationToken">Cancels a store round trip; the in-process table completes synchronously.</param>
    ValueTask<LeaseAcquisition> TryAcquireAsync(PoolKey pool, int limit, TimeSpan ttl, CancellationToken cancellationToken = default);

    /// <summary>Live leases of <paramref name="pool"/> right now (expired ones do not count).</summary>
    ValueTask<int> CountAsync(PoolKey pool, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends every lease this table issued and that is still held by its own time to live. The node calls it on one
    /// timer well inside the TTL; when it stops (the process died), the leases expire.
    /// </summary>
    ValueTask RenewHeldAsync(CancellationToken cancellationToken = default);
}

/// <summary>The answer of <see cref="ILeaseTable.TryAcquireAsync"/>: the lease, or a refusal with the count that refused it.</summary>
public readonly struct LeaseAcquisition
{
    private LeaseAcquisition(Lease lease, int held)
    {
        Lease = lease;
        Held = held;
    }

    public static LeaseAcquisition Granted(Lease lease, int held) => new(lease, held);

    public static LeaseAcquisition Refused(int held) => new(default, held);

    public bool Acquired => Lease.IsHeld;

    /// <summary>The slot taken; <c>default</c> (holds nothing) when refused.</summary>
    public Lease Lease { get; }

    /// <summary>Live leases of the pool after the decision (including this one when granted).</summary>
    public int Held { get; }
}

/// <summary>
/// A held concurrency slot: a value that names its slot in the table that issued it. Disposing it frees the slot;
/// disposing it again, or disposing a copy, does nothing. <c>default</c> holds nothing.
/// </summary>
public readonly struct Lease : IAsyncDisposable, IEquatable<Lease>
{
    private readonly ILeaseOwner? _owner;
    private readonly long _token;

    /// <summary>For lease tables: <paramref name="token"/> identifies the slot (and its generation) in <paramref name="owner"/>.</summary>
    public Lease(ILeaseOwner owner, long token)
    {
        _owner = owner ?? throw new ArgumentNullException(nameof(owner));
        _token = token;
    }

    public bool IsHeld => _owner is not null;

    /// <summary>Extends the lease by <paramref name="ttl"/> from now; false when it is no longer held (released or expired).</summary>
    public ValueTask<bool> RenewAsync(TimeSpan ttl, CancellationToken cancellationToken = default) =>
        _owner?.RenewAsync(_token, ttl, cancellationToken) ?? new ValueTask<bool>(false);

    /// <summary>Frees the slot (once; later calls do nothing).</summary>
    public ValueTask DisposeAsync() => _owner?.ReleaseAsync(_token) ?? ValueTask.CompletedTask;

    public bool Equals(Lease other) => ReferenceEquals(_owner, other._owner) && _token == other._token;

    public override bool Equals(object? obj) => obj is Lease other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_owner, _token);
}

/// <summary>What a lease table implements so that its <see cref="Lease"/> values can renew and free their slots.</summary>
public interface ILeaseOwner
{
    /// <summary>Extends the lease named by <paramref name="token"/>; false when it is no longer held.</summary>
    ValueTask<bool> RenewAsync(long token, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Frees the lease named by <paramref name="token"/> if it is still held; idempotent.</summary>
    ValueTask ReleaseAsync(long token);
}
