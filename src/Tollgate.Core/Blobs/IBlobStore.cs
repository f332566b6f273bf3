namespace Tollgate.Blobs;

/// <summary>
/// Durable files kept by key (the local data folder by default; a shared volume or object store when distributed):
/// the inputs, results and samples of the dubbing workflow. Keys are relative, <c>/</c>-separated paths that
/// <see cref="BlobKeys.Validate"/> accepts; any other key is refused with an <see cref="ArgumentException"/> before
/// anything is read or written, so no key reaches outside the store.
/// </summary>
public interface IBlobStore
{
    /// <summary>
    /// Stores everything <paramref name="content"/> yields under <paramref name="key"/>, replacing what was there.
    /// Atomic: until it returns, readers see the previous content (or no blob); if it fails or the process dies
    /// mid-way, nothing of the new content is left under the key.
    /// </summary>
    Task PutAsync(string key, Stream content, CancellationToken ct = default);

    /// <summary>The blob's content as a readable, seekable stream (the caller disposes it), or null when there is none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default);

    /// <summary>Removes the blob; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken ct = default);

    Task<bool> ExistsAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Every blob whose key starts with <paramref name="prefix"/> (e.g. <c>dubbing/</c>), in no particular order, with
    /// when it was last written: what a sweep of blobs nothing refers to any more walks. Writes still in progress are
    /// not blobs yet and are not listed.
    /// </summary>
    IAsyncEnumerable<BlobInfo> ListAsync(string prefix, CancellationToken ct = default);
}

/// <summary>One stored blob: its key, its size in bytes, and when it was last written.</summary>
public readonly record struct BlobInfo(string Key, long Length, DateTimeOffset LastModified);

/// <summary>What a blob key may be, the same for every <see cref="IBlobStore"/>.</summary>
public static class BlobKeys
{
    public const int MaxLength = 512;

    /// <summary>
    /// Whether <paramref name="key"/> is a relative path of one or more segments separated by <c>/</c>, each segment
    /// ASCII letters, digits, <c>_</c>, <c>-</c> and <c>.</c>, not starting with <c>.</c> (so never <c>.</c> or
    /// <c>..</c>, and never a store's own hidden temporary names), at most <see cref="MaxLength"/> characters in all.
    /// </summary>
    public static bool IsValid(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxLength)
        {
            return false;
        }
        var segmentStart = true;
        foreach (var c in key)
        {
            if (c == '/')
            {
                if (segmentStart)
                {
                    return false; // a leading '/', or '//'
                }
                segmentStart = true;
                continue;
            }
            if (segmentStart && c == '.')
            {
                return false;
            }
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
            segmentStart = false;
        }
        return !segmentStart; // not ending with '/'
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> <see cref="IsValid"/>.</summary>
    public static void Validate(string? key)
    {
        if (!IsValid(key))
        {
            throw new ArgumentException(
                $"'{key}' is not a blob key: use relative path segments of letters, digits, '_', '-' and '.', separated by '/', none starting with '.'.",
                nameof(key));
        }
    }
}
