using Tollgate.Client.Models;

namespace Tollgate.Client;

/// <summary>
/// Everything the SDK's clients need, bound from configuration by <c>services.AddTollgateClient(configuration.GetSection("Tollgate"))</c>
/// (keys as the property names: <c>Tollgate:BaseAddress</c>, <c>Tollgate:ApiKey</c>, <c>Tollgate:MaxConcurrency</c>,
/// <c>Tollgate:Retry:MaxRetryAttempts</c>…) or set in code and passed to a client's constructor. Checked by
/// <see cref="Validate"/> before the first use; every problem is reported at once.
/// </summary>
public sealed class TollgateClientOptions
{
    /// <summary>The configuration section <c>AddTollgateClient(IConfiguration)</c> documents: <c>Tollgate</c>.</summary>
    public const string SectionName = "Tollgate";

    /// <summary>The shortest interval between two status reads of one job, dub or voice: 3 s, as the APIs ask.</summary>
    public static readonly TimeSpan MinimumPollInterval = TimeSpan.FromSeconds(3);

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:5080</c> (a path such as <c>https://host/gateway</c> is kept). Required.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// The API key: sent as <c>X-API-Key</c> (Models API), <c>apikey</c> (Platform API) or <c>Authorization: Api-Key</c>
    /// (Dubbing API). Required by those clients.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The Platform API's <c>accountuuid</c>: on Tollgate, the key's organization id (<c>org_…</c>). Required by the Platform client only.</summary>
    public string? AccountId { get; set; }

    /// <summary>The Admin API's token (<c>Authorization: Bearer</c>); needed only to resolve the Admin client from DI. Default none.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// How many requests of one model may be in flight at once: set it to the key's concurrency limit. Default
    /// <see langword="null"/>: learned — from the key's models in <c>GET /v1/me</c> (read once, before the first
    /// metered request, when <see cref="LearnConcurrencyFromAccount"/>), else the first request goes alone and the gate
    /// takes the size the answer's <c>RateLimit-Policy: "concurrency";q=N</c> names, else <see cref="DefaultConcurrency"/>.
    /// </summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>
    /// Whether an unconfigured gate is sized from the account answer (<c>GET /v1/me</c>, whose <c>models</c> give each
    /// model's <c>concurrency</c>; Tollgate answers it for every key), read once per <see cref="Behavior.TollgateClientBehavior"/>
    /// before the first metered request; a server that does not answer it leaves the gate to learn from the first
    /// answer. Default <see langword="true"/>.
    /// </summary>
    public bool LearnConcurrencyFromAccount { get; set; } = true;

    /// <summary>The gate's size when it is neither configured nor learned from the server; default 2.</summary>
    public int DefaultConcurrency { get; set; } = 2;

    /// <summary>How 429 answers are retried; default <see cref="TollgateRetryOptions.Default"/> (3 retries, 1 s base, 30 s cap).</summary>
    public TollgateRetryOptions Retry { get; set; } = new();

    /// <summary>
    /// Whether requests wait for a rate window's reset when its <c>X-RateLimit-Remaining</c> is spoken for, instead of being
    /// sent to meet a 429; default <see langword="true"/>.
    /// </summary>
    public bool PaceRateWindows { get; set; } = true;

    /// <summary>At most this much random time is added to a wait for a window's reset, so waiting clients spread out; default 250 ms.</summary>
    public TimeSpan RateWindowJitter { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The interval between two status reads of one job, dub or voice; default and minimum 3 s (a longer server hint wins).</summary>
    public TimeSpan PollInterval { get; set; } = MinimumPollInterval;

    /// <summary>At most this much random time is added to each poll interval; default 1 s.</summary>
    public TimeSpan PollJitter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest one HTTP attempt may take (a 100 MB upload over a slow link takes minutes); default 10 minutes.
    /// <see cref="Timeout.InfiniteTimeSpan"/> for none. Waits in the gate and for a rate window are not counted.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Every problem with these options, or none.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (BaseAddress is null)
        {
            errors.Add($"{nameof(BaseAddress)} is required (e.g. http://127.0.0.1:5080).");
        }
        else if (!BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{nameof(BaseAddress)} must be an absolute http or https URL (was '{BaseAddress}').");
        }
        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey))
        {
            errors.Add($"{nameof(ApiKey)} must not be blank.");
        }
        if (MaxConcurrency is < 1)
        {
            errors.Add($"{nameof(MaxConcurrency)} must be at least 1, or unset to learn it (was {MaxConcurrency}).");
        }
        if (DefaultConcurrency < 1)
        {
            errors.Add($"{nameof(DefaultConcurrency)} must be at least 1 (was {DefaultConcurrency}).");
        }
        if (Retry is null)
        {
            errors.Add($"{nameof(Retry)} is required.");
        }
        else
        {
            errors.AddRange(Retry.Errors().Select(e => $"{nameof(Retry)}.{e}"));
        }
        if (RateWindowJitter < TimeSpan.Zero)
        {
            errors.Add($"{nameof(RateWindowJitter)} must not be negative (was {RateWindowJitter}).");
        }
        if (PollInterval < MinimumPollInterval)
        {
            errors.Add($"{nameof(PollInterval)} must be at least {MinimumPollInterval.TotalSeconds:0} s, as the APIs ask (was {PollInterval}).");
        }
        if (PollJitter < TimeSpan.Zero)
        {
            errors.Add($"{nameof(PollJitter)} must not be negative (was {PollJitter}).");
        }
        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(RequestTimeout)} must be positive, or Timeout.InfiniteTimeSpan (was {RequestTimeout}).");
        }
        return errors;
    }

    /// <summary>Throws one <see cref="ArgumentException"/> naming every problem <see cref="Validate"/> finds.</summary>
    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid TollgateClientOptions: " + string.Join(" ", errors));
        }
    }

    /// <summary>A copy, so a client is not changed by later edits of the options it was built from.</summary>
    internal TollgateClientOptions Clone() => (TollgateClientOptions)MemberwiseClone();
}
