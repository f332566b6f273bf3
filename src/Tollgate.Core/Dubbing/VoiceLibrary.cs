using System.Text;

namespace Tollgate.Dubbing;

/// <summary>What <c>GET /v1/voices</c> may filter by: a free-text search and sets of genres, languages and styles.</summary>
internal sealed record VoiceQuery(string? Search, IReadOnlyCollection<string> Genres, IReadOnlyCollection<string> Languages, IReadOnlyCollection<string> Styles, int Limit, string? Cursor);

/// <summary>A page of voices and the cursor of the next one (null on the last page).</summary>
internal sealed record VoicePage(IReadOnlyList<Voice> Voices, string? NextCursor);

/// <summary>
/// The voice library: a small stock catalogue (embedded here and seeded into the store at start-up) plus the caller's
/// own ready voices, filtered and paged by an opaque cursor — the last id of the previous page, so pages neither skip
/// nor repeat voices while voices are added or removed.
/// </summary>
internal static class VoiceLibrary
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static readonly IReadOnlyList<Voice> Stock =
    [
        StockVoice("v_ada", "Ada", "en", "narration", "calm", "A measured, warm narrator."),
        StockVoice("v_bruno", "Bruno", "pt", "advertising", "energetic", "A bright, upbeat presenter."),
        StockVoice("v_chloe", "Chloé", "fr", "narration", "calm", "A soft, close-miked storyteller."),
        StockVoice("v_dmitri", "Dmitri", "ru", "documentary", "serious", "A deep documentary voice."),
        StockVoice("v_elena", "Elena", "es", "conversational", "friendly", "A relaxed, everyday speaker."),
        StockVoice("v_farid", "Farid", "ar", "news", "serious", "A crisp newsreader."),
        StockVoice("v_grace", "Grace", "en", "conversational", "friendly", "A natural, chatty voice."),
        StockVoice("v_hiro", "Hiro", "ja", "animation", "energetic", "A lively character voice."),
        StockVoice("v_ines", "Inês", "pt", "narration", "calm", "A gentle audiobook narrator."),
        StockVoice("v_jonas", "Jonas", "de", "news", "serious", "A clear, neutral announcer."),
        StockVoice("v_kiri", "Kiri", "en", "animation", "playful", "A young, playful character."),
        StockVoice("v_lucia", "Lucía", "es", "advertising", "energetic", "A punchy commercial voice."),
        StockVoice("v_marco", "Marco", "it", "documentary", "calm", "A warm documentary narrator."),
        StockVoice("v_nadia", "Nadia", "fr", "news", "serious", "A confident news anchor."),
        StockVoice("v_oskar", "Oskar", "de", "conversational", "friendly", "A casual conversational voice."),
        StockVoice("v_priya", "Priya", "hi", "narration", "calm", "A clear, patient explainer."),
    ];

    private static Voice StockVoice(string id, string name, string language, string genre, string style, string description) =>
        new() { Id = id, Name = name, Language = language, Genre = genre, Style = style, Description = description, CreatedAt = DateTimeOffset.UnixEpoch };

    /// <summary>The page of <paramref name="voices"/> that <paramref name="query"/> asks for (ready voices only, in id order).</summary>
    public static VoicePage Page(IEnumerable<Voice> voices, VoiceQuery query)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var after = DecodeCursor(query.Cursor);
        if (query.Cursor is { Length: > 0 } && after is null)
        {
            throw new ArgumentException("The cursor is not one this library issued.", nameof(query));
        }
        var matching = voices
            .Where(v => v.Status == VoiceStatus.Ready)
            .Where(v => query.Search is not { Length: > 0 } search
                || v.Name.Contains(search, StringComparison.OrdinalIgnoreCase)
                || (v.Description?.Contains(search, StringComparison.OrdinalIgnoreCase) ?? false)
                || (v.Genre?.Contains(search, StringComparison.OrdinalIgnoreCase) ?? false)
                || (v.Style?.Contains(search, StringComparison.OrdinalIgnoreCase) ?? false))
            .Where(v => query.Genres.Count == 0 || (v.Genre is { } g && query.Genres.Contains(g, StringComparer.OrdinalIgnoreCase)))
            .Where(v => query.Languages.Count == 0 || query.Languages.Any(l => SpeaksLanguage(v, l)))
            .Where(v => query.Styles.Count == 0 || (v.Style is { } s && query.Styles.Contains(s, StringComparer.OrdinalIgnoreCase)))
            .OrderBy(v => v.Id, StringComparer.Ordinal)
            .Where(v => after is null || string.CompareOrdinal(v.Id, after) > 0)
            .Take(query.Limit + 1)
            .ToList();
        var hasMore = matching.Count > query.Limit;
        var page = matching.Take(query.Limit).ToList();
        return new VoicePage(page, hasMore ? EncodeCursor(page[^1].Id) : null);
    }

    /// <summary>Whether a voice speaks <paramref name="language"/>: the same code, or a regional variant of it ("en" matches "en-GB").</summary>
    public static bool SpeaksLanguage(Voice voice, string language) =>
        voice.Language.Equals(language, StringComparison.OrdinalIgnoreCase)
        || (voice.Language.Length > language.Length && voice.Language[language.Length] == '-'
            && voice.Language.StartsWith(language, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <paramref name="cursor"/> is absent or one <see cref="Page"/> issued.</summary>
    public static bool IsValidCursor(string? cursor) => string.IsNullOrEmpty(cursor) || DecodeCursor(cursor) is not null;

    internal static string EncodeCursor(string lastId) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("after:" + lastId)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? DecodeCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 += new string('=', (4 - base64.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            return text.StartsWith("after:", StringComparison.Ordinal) && text.Length > 6 ? text[6..] : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
    }
}
