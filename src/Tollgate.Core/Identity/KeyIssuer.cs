using System.Collections.Frozen;
using Tollgate.Models;

namespace Tollgate.Identity;

/// <summary>A freshly issued key: the record that is stored and the secret that is shown exactly once.</summary>
internal sealed record IssuedKey(ApiKeyRecord Record, string Secret);

/// <summary>Creates API keys with fixed entitlements, after checking every requested entitlement.</summary>
internal sealed class KeyIssuer(IIdentityStore store, TimeProvider time)
{
    public const int MaxConcurrency = 10_000;
    public const double MaxMonthlyAudioHours = 1_000_000;

    /// <summary>Every problem with the requested entitlements, as "models.&lt;name&gt;.field: message" lines.</summary>
    public static List<string> Validate(IReadOnlyDictionary<string, ModelLimits>? models)
    {
        var errors = new List<string>();
        if (models is null || models.Count == 0)
        {
            errors.Add("models: at least one model is required, e.g. {\"velma-2-stt-batch\": {\"concurrency\": 5, \"monthly_audio_hours\": 10}}.");
            return errors;
        }
        foreach (var (name, limits) in models)
        {
            if (!ModelCatalog.TryGet(name, out _))
            {
                errors.Add($"models.{name}: no such model. Known models: {string.Join(", ", ModelCatalog.Names)}.");
                continue;
            }
            if (limits is null)
            {
                errors.Add($"models.{name}: limits are required.");
                continue;
            }
            if (limits.Concurrency is < 1 or > MaxConcurrency)
            {
                errors.Add($"models.{name}.concurrency: must be between 1 and {MaxConcurrency} (was {limits.Concurrency}).");
            }
            if (double.IsNaN(limits.MonthlyAudioHours) || limits.MonthlyAudioHours is < 0 or > MaxMonthlyAudioHours)
            {
                errors.Add($"models.{name}.monthly_audio_hours: must be between 0 and {MaxMonthlyAudioHours} (was {limits.MonthlyAudioHours}).");
            }
        }
        return errors;
    }

    /// <summary>Issues a key for a user whose organization the caller has already checked.</summary>
    /// <exception cref="ArgumentException">The entitlements are invalid (see <see cref="Validate"/>).</exception>
    public async Task<IssuedKey> IssueAsync(User user, string? name, IReadOnlyDictionary<string, ModelLimits> models, CancellationToken ct = default)
    {
        var errors = Validate(models);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(models));
        }
        var issued = New(user.OrgId, user.Id, name, models);
        await store.AddKeyAsync(issued.Record, ct).ConfigureAwait(false);
        return issued;
    }

    /// <summary>
    /// Rotates <paramref name="old"/>: a new key with the same owner, name and entitlements, stored together with the old
    /// key's expiry, <paramref name="overlap"/> from now. Null when the old key is revoked or expired (nothing stored).
    /// </summary>
    public async Task<IssuedKey?> RotateAsync(ApiKeyRecord old, TimeSpan overlap, CancellationToken ct = default)
    {
        var now = Timestamps.Now(time);
        var issued = New(old.OrgId, old.UserId, old.Name, old.Models);
        return await store.RotateKeyAsync(old.Id, issued.Record, Timestamps.ToMillisecond(now + overlap), now, ct).ConfigureAwait(false) ? issued : null;
    }

    private IssuedKey New(string orgId, string userId, string? name, IReadOnlyDictionary<string, ModelLimits> models)
    {
        var secret = ApiKeys.Generate();
        var record = new ApiKeyRecord(
            Id: Ids.New("key"),
            OrgId: orgId,
            UserId: userId,
            Name: string.IsNullOrWhiteSpace(name) ? null : name.Trim(),
            Prefix: ApiKeys.VisiblePrefix(secret),
            Hash: ApiKeys.Hash(secret),
            Models: models.ToFrozenDictionary(StringComparer.Ordinal),
            CreatedAt: Timestamps.Now(time),
            LastUsedAt: null,
            RevokedAt: null);
        return new IssuedKey(record, secret);
    }
}
