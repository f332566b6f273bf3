using System.Security.Cryptography;

namespace Tollgate;

/// <summary>
/// Every id Tollgate hands out: a short kind prefix, an underscore, then either 80 random bits in lower-case hex
/// (<see cref="New"/>: <c>org_…</c>, <c>usr_…</c>, <c>key_…</c>, <c>dub_…</c>, <c>voice_…</c>), or a version-7 GUID
/// (<see cref="NewOrdered"/>: time-ordered, for rows written in bulk such as <c>req_…</c>).
/// </summary>
internal static class Ids
{
    private const int RandomBytes = 10;

    /// <summary><paramref name="prefix"/>, <c>_</c> and 80 random bits in hex: unguessable, so an id alone proves nothing but names one thing.</summary>
    public static string New(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return string.Create(prefix.Length + 1 + RandomBytes * 2, prefix, static (span, prefix) =>
        {
            prefix.CopyTo(span);
            span[prefix.Length] = '_';
            Span<byte> random = stackalloc byte[RandomBytes];
            RandomNumberGenerator.Fill(random);
            Convert.TryToHexStringLower(random, span[(prefix.Length + 1)..], out _);
        });
    }

    /// <summary><paramref name="prefix"/>, <c>_</c> and a version-7 GUID (32 hex digits, ordered by creation time), in one allocation.</summary>
    public static string NewOrdered(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return string.Create(prefix.Length + 1 + 32, (Prefix: prefix, Guid: Guid.CreateVersion7()), static (span, state) =>
        {
            state.Prefix.CopyTo(span);
            span[state.Prefix.Length] = '_';
            state.Guid.TryFormat(span[(state.Prefix.Length + 1)..], out _, "N");
        });
    }
}
