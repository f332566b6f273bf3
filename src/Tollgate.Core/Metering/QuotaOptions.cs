namespace Tollgate.Metering;

/// <summary>
/// The optional organization-wide monthly cap (DESIGN 3.3): audio hours across all models, on top of each key's
/// per-model limits. Disabled (0) by default. Configuration section <c>Tollgate:Quotas</c>.
/// </summary>
internal sealed record QuotaOptions
{
    public const string SectionPath = "Tollgate:Quotas";

    /// <summary>Cap for every organization, in audio hours per month; 0 = no cap.</summary>
    public double OrganizationMonthlyAudioHours { get; set; }

    /// <summary>Per-organization caps (organization id → hours) that replace the default; 0 = no cap for that organization.</summary>
    public Dictionary<string, double> Organizations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The cap of <paramref name="orgId"/> in milliseconds, or 0 when it has none.</summary>
    public long CapMs(string orgId) =>
        HoursToMs(Organizations.TryGetValue(orgId, out var hours) ? hours : OrganizationMonthlyAudioHours);

    public IEnumerable<string> Validate()
    {
        if (!double.IsFinite(OrganizationMonthlyAudioHours) || OrganizationMonthlyAudioHours < 0)
        {
            yield return $"{SectionPath}:OrganizationMonthlyAudioHours must be a number of hours ≥ 0 (0 = no cap; was {OrganizationMonthlyAudioHours}).";
        }
        foreach (var (org, hours) in Organizations)
        {
            if (!double.IsFinite(hours) || hours < 0)
            {
                yield return $"{SectionPath}:Organizations:{org} must be a number of hours ≥ 0 (0 = no cap; was {hours}).";
            }
        }
    }

    public static long HoursToMs(double hours) => (long)Math.Round(hours * 3_600_000d);
}
