namespace Tollgate.Server.Hosting;

/// <summary>The <c>Tollgate</c> configuration section (appsettings.json, env <c>Tollgate__...</c>).</summary>
internal sealed record TollgateOptions
{
    public const string Section = "Tollgate";

    public AdminOptions Admin { get; set; } = new();

    public BootstrapOptions Bootstrap { get; set; } = new();

    /// <summary>Per model: where to forward instead of the built-in reference backend.</summary>
    public Dictionary<string, BackendOptions> Backends { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where uploads are spooled while they are probed and processed (default: <c>spool</c> in <c>Tollgate:DataDirectory</c>).</summary>
    public string? SpoolDirectory { get; set; }
}

internal sealed record AdminOptions
{
    /// <summary>The admin bearer token. Empty: one is generated on first start, stored (hashed) and printed once.</summary>
    public string? Token { get; set; }
}

internal sealed record BootstrapOptions
{
    /// <summary>Create a demo organization, user and key on first start with an empty store (default true).</summary>
    public bool CreateDemo { get; set; } = true;

    public int DemoConcurrency { get; set; } = 5;

    public double DemoMonthlyAudioHours { get; set; } = 10;
}

internal sealed record BackendOptions
{
    /// <summary>
    /// The upstream base URL, e.g. <c>https://models.internal:8443</c>. Batch requests go to
    /// <c>{Url}/api/{model}</c> over HTTP(S); streaming to <c>{Url}/api/{model}</c> over WS(S).
    /// </summary>
    public string? Url { get; set; }

    /// <summary>The key Tollgate presents upstream (the caller's key is never forwarded).</summary>
    public string? ApiKey { get; set; }
}
