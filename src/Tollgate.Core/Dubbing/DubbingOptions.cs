namespace Tollgate.Dubbing;

/// <summary>The <c>Tollgate:Dubbing</c> configuration section.</summary>
internal sealed record DubbingOptions
{
    public const string SectionPath = "Tollgate:Dubbing";

    /// <summary>Largest input a dub accepts, uploaded or fetched from a link: 100 MB.</summary>
    public const long MaxInputBytes = 100L * 1024 * 1024;

    /// <summary>
    /// No longer read: inputs, samples and results are blobs in the <c>dubbing</c> folder of the data directory
    /// (<c>Tollgate:DataDirectory</c>). Kept so that a configuration still naming a folder fails at start instead of
    /// silently leaving its files behind.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>Credits per organization per calendar month (UTC); a dub costs one per started second of input (default 36,000 = 10 hours).</summary>
    public int MonthlyCredits { get; set; } = 36_000;

    /// <summary>Hosts a dub's <c>sourceUrl</c> may be fetched from (exact names, or <c>*.example.com</c> for its subdomains); empty (default) = links refused.</summary>
    public List<string> AllowedSourceHosts { get; set; } = [];

    /// <summary>Whether links may connect to loopback, private, link-local or other internal addresses (default false: refused).</summary>
    public bool AllowPrivateSourceAddresses { get; set; }

    /// <summary>Every problem with these settings, so start-up can report them all at once.</summary>
    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrEmpty(Directory))
        {
            yield return $"{SectionPath}:Directory is no longer used: dub files are kept in the 'dubbing' folder of Tollgate:DataDirectory. "
                + "Move the files there (or point Tollgate:DataDirectory at the folder that holds 'dubbing') and remove the setting.";
        }
        if (MonthlyCredits < 0)
        {
            yield return $"{SectionPath}:MonthlyCredits must be ≥ 0.";
        }
        foreach (var host in AllowedSourceHosts)
        {
            var name = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            if (string.IsNullOrWhiteSpace(name) || Uri.CheckHostName(name) == UriHostNameType.Unknown)
            {
                yield return $"{SectionPath}:AllowedSourceHosts: '{host}' is not a host name (give a name or address, or *.domain; no scheme, port or path).";
            }
        }
    }

    /// <summary>Whether <paramref name="host"/> is on <see cref="AllowedSourceHosts"/> (case-insensitive; <c>*.d</c> matches subdomains of d).</summary>
    public bool IsAllowedHost(string host)
    {
        host = host.TrimEnd('.');
        foreach (var allowed in AllowedSourceHosts)
        {
            var matches = allowed.StartsWith("*.", StringComparison.Ordinal)
                ? host.Length > allowed.Length - 1 && host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase)
                : string.Equals(host, allowed.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
            if (matches)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// A seam for tests and operators: a worker awaits it before rendering a dub that is <c>processing</c>, so a test can
/// hold a dub there (and stop the server mid-way) without timing anything.
/// </summary>
internal interface IDubProcessingGate
{
    ValueTask WaitAsync(Dub dub, CancellationToken ct);
}

/// <summary>The default gate: never waits.</summary>
internal sealed class OpenDubProcessingGate : IDubProcessingGate
{
    public ValueTask WaitAsync(Dub dub, CancellationToken ct) => ValueTask.CompletedTask;
}

/// <summary>
/// The blob keys of the dubbing workflow, all in the <c>dubbing</c> folder of the blob store (so, by default,
/// <c>{Tollgate:DataDirectory}/dubbing/</c>): a dub's input and result and a voice's samples, named after their ids.
/// </summary>
internal static class DubbingBlobs
{
    public const string Folder = "dubbing";

    public static string Input(string dubId) => Key(dubId + ".input");

    public static string Result(string dubId) => Key(dubId + ".wav");

    public static string Sample(string sampleFile) => Key(sampleFile);

    private static string Key(string name)
    {
        var key = Folder + "/" + name;
        Tollgate.Blobs.BlobKeys.Validate(key);
        return key;
    }
}
