using Tollgate.Limits;

namespace Tollgate.Dubbing;

/// <summary>
/// Dubbing credits: each organization gets an allowance per calendar month (UTC); a dub costs one credit per started
/// second of input audio, charged when generation is accepted and refunded if it then fails. What is used is derived
/// from the ledger (<see cref="CreditEntry"/>), never stored as a running total.
/// </summary>
internal static class DubbingCredits
{
    public const int MillisecondsPerCredit = 1000;

    /// <summary>Credits a dub of <paramref name="inputDurationMs"/> costs: one per started second, at least one.</summary>
    public static int For(long inputDurationMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputDurationMs);
        var credits = (inputDurationMs + MillisecondsPerCredit - 1) / MillisecondsPerCredit;
        return (int)Math.Clamp(credits, 1, int.MaxValue);
    }

    /// <summary>What is left of <paramref name="allowance"/> once <paramref name="used"/> is spent (never below zero).</summary>
    public static int Left(int allowance, long used) => (int)Math.Clamp(allowance - used, 0, int.MaxValue);

    public static bool CanAfford(int required, int left) => required <= left;

    /// <summary>The ledger id of a dub's charge (one per dub, so a retried generate never charges twice).</summary>
    public static string ChargeId(string dubId) => dubId + ":charge";

    /// <summary>The ledger id of a dub's refund (one per dub).</summary>
    public static string RefundId(string dubId) => dubId + ":refund";
}

/// <summary>One append-only ledger row: credits spent (positive) or given back (negative) by a dub, in a month.</summary>
public sealed record CreditEntry(string EntryId, string OrgId, string DubId, int Credits, MonthPeriod Period, DateTimeOffset At);

/// <summary>How an attempt to charge and move a dub on ended.</summary>
public enum ChargeStatus
{
    /// <summary>The dub moved on and the charge is recorded (both, or neither).</summary>
    Charged,
    /// <summary>The dub was no longer in the expected status; nothing was written.</summary>
    Conflict,
    /// <summary>The organization has fewer credits left than the charge; nothing was written.</summary>
    InsufficientCredits,
}

/// <summary>The answer of <see cref="IDubbingStore.ChargeAsync"/>: what happened and the credits left afterwards.</summary>
public readonly record struct ChargeOutcome(ChargeStatus Status, int CreditsLeft);
