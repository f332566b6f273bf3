using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Output;

/// <summary>How the Admin API's answers look as tables. Every value is plain <see cref="Text"/>, never markup.</summary>
internal static class Tables
{
    public static Table Organizations(IEnumerable<Organization> orgs)
    {
        var table = Create("ID", "Name", "Created");
        foreach (var o in orgs)
        {
            Row(table, o.Id, o.Name, Time(o.CreatedAt));
        }
        return table;
    }

    public static Table Users(IEnumerable<User> users)
    {
        var table = Create("ID", "Name", "Organization", "Created", "Status");
        foreach (var u in users)
        {
            Row(table, u.Id, u.Name, u.OrgId, Time(u.CreatedAt), u.DisabledAt is { } at ? "disabled " + Time(at) : "active");
        }
        return table;
    }

    public static Table Keys(IEnumerable<ApiKey> keys)
    {
        var table = Create("ID", "Prefix", "Name", "User", "Models", "Created", "Last used", "Status");
        foreach (var k in keys)
        {
            Row(table, k.Id, k.Prefix, k.Name ?? "", k.UserId, string.Join(", ", k.Models.Keys.Order(StringComparer.Ordinal)),
                Time(k.CreatedAt), Time(k.LastUsedAt, "never"), Status(k));
        }
        return table;
    }

    /// <summary><c>keys show</c>: one key as a two-column grid of properties.</summary>
    public static Grid Key(ApiKey key) => Properties(
        ("ID", key.Id),
        ("Prefix", key.Prefix),
        ("Name", key.Name ?? ""),
        ("Organization", key.OrgId),
        ("User", key.UserId),
        ("Created", Time(key.CreatedAt)),
        ("Last used", Time(key.LastUsedAt, "never")),
        ("Expires", Time(key.ExpiresAt, "never")),
        ("Status", Status(key)));

    /// <summary><c>keys create</c>: the new key, without its secret (printed apart).</summary>
    public static Grid CreatedKey(CreatedApiKey key) => Properties(
        ("ID", key.Id),
        ("Prefix", key.Prefix),
        ("Name", key.Name ?? ""),
        ("Organization", key.OrgId),
        ("User", key.UserId),
        ("Created", Time(key.CreatedAt)));

    public static Table Entitlements(IReadOnlyDictionary<string, ModelLimits> models)
    {
        var table = Create("Model", "Concurrency", "Monthly audio hours");
        table.Columns[1].RightAligned();
        table.Columns[2].RightAligned();
        foreach (var (model, limits) in models.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            Row(table, model, Number(limits.Concurrency), Hours(limits.MonthlyAudioHours));
        }
        return table;
    }

    public static Table Usage(UsageReport report)
    {
        var table = Create("Model", "Used h", "Limit h", "Remaining h", "In flight", "Concurrency");
        for (var i = 1; i < table.Columns.Count; i++)
        {
            table.Columns[i].RightAligned();
        }
        foreach (var m in report.Models.OrderBy(m => m.Model, StringComparer.Ordinal))
        {
            Row(table, m.Model, Hours(m.UsedHours), Hours(m.LimitHours), Hours(m.RemainingHours), Number(m.InFlight), Number(m.ConcurrencyLimit));
        }
        return table;
    }

    public static string Time(DateTimeOffset? time, string none = "—") =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : none;

    private static string Status(ApiKey key) => key switch
    {
        { RevokedAt: { } at } => "revoked " + Time(at),
        { Status: "expired" } => "expired " + Time(key.ExpiresAt),
        { ExpiresAt: { } end } => "expires " + Time(end),
        _ => "active",
    };

    public static Table AdminTokens(IEnumerable<AdminToken> tokens)
    {
        var table = Create("ID", "Prefix", "Name", "Scope", "Created", "Status");
        foreach (var t in tokens)
        {
            Row(table, t.Id, t.Prefix, t.Name ?? "", t.OrgId ?? "operator", Time(t.CreatedAt), t.RevokedAt is { } at ? "revoked " + Time(at) : "active");
        }
        return table;
    }

    /// <summary><c>usage --key</c> / <c>usage --user</c>: what the ledger charged, per model.</summary>
    public static Table Charged(ChargedUsage usage)
    {
        var table = Create("Model", "Used h", "Used ms", "Charges");
        for (var i = 1; i < table.Columns.Count; i++)
        {
            table.Columns[i].RightAligned();
        }
        foreach (var m in usage.Models)
        {
            Row(table, m.Model, Hours(m.UsedHours), m.UsedMs.ToString(CultureInfo.InvariantCulture), m.Charges.ToString(CultureInfo.InvariantCulture));
        }
        Row(table, "total", Hours(usage.UsedHours), usage.UsedMs.ToString(CultureInfo.InvariantCulture), usage.Charges.ToString(CultureInfo.InvariantCulture));
        return table;
    }

    private static string Hours(double? hours) => hours is { } h ? h.ToString("0.###", CultureInfo.InvariantCulture) : "—";

    private static string Number(int? n) => n is { } v ? v.ToString(CultureInfo.InvariantCulture) : "—";

    private static Table Create(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            // Ids, prefixes and times stay on one line (copy-paste); only free text wraps.
            var column = new TableColumn(new Text(header, new Style(decoration: Decoration.Bold)));
            if (header is not ("Name" or "Models"))
            {
                column.NoWrap();
            }
            table.AddColumn(column);
        }
        return table;
    }

    private static void Row(Table table, params string[] cells) => table.AddRow(cells.Select(c => (IRenderable)new Text(c)));

    private static Grid Properties(params (string Name, string Value)[] properties)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        foreach (var (name, value) in properties)
        {
            grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
        }
        return grid;
    }
}
