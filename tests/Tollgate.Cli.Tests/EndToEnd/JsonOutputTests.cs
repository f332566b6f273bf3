using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Cli;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Models;
using Tollgate.Infrastructure;

namespace Tollgate.EndToEnd;

/// <summary>
/// <c>--json</c> carries every field the server sent: each admin command's output, parsed, equals the server's own
/// answer to the same call (object members in any order, times as instants, numbers as values).
/// </summary>
[Collection(ServerProcessCollection.Name)]
public sealed class JsonOutputTests(ServerProcessFixture fixture)
{
    private const string Model = "velma-2-stt-batch";

    private readonly Func<string, string?> _environment = CliRunner.Environment(
        (GlobalOptions.UrlVariable, fixture.Server.BaseAddress.ToString()),
        (GlobalOptions.AdminTokenVariable, ServerProcess.AdminToken));

    [Fact]
    public async Task EveryAdminCommand_PrintsTheServersAnswer_WithEveryField()
    {
        using var admin = new TollgateAdminClient(fixture.Server.BaseAddress, ServerProcess.AdminToken);
        var org = await admin.CreateOrganizationAsync("json fidelity");
        var user = await admin.CreateUserAsync(org.Id, "jo");
        var key = await admin.CreateKeyAsync(org.Id, user.Id, new Dictionary<string, ModelLimits> { [Model] = new(2, 1) }, name: "json");
        using (var models = new TollgateModelsClient(new TollgateClientOptions { BaseAddress = fixture.Server.BaseAddress, ApiKey = key.Key }))
        {
            // Something charged, so the usage answers carry their used/remaining/charges fields with values.
            using var answer = await models.PostBatchAsync(Model, new MemoryStream(TestAudio.Wav(1)), "a.wav");
        }
        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", CultureInfo.InvariantCulture);

        (string[] Args, string Path)[] calls =
        [
            (["orgs", "get", org.Id], $"admin/orgs/{org.Id}"),
            (["users", "get", user.Id], $"admin/users/{user.Id}"),
            (["users", "list", "--org", org.Id], $"admin/orgs/{org.Id}/users"),
            (["keys", "show", key.Id], $"admin/keys/{key.Id}"),
            (["keys", "list", "--org", org.Id], $"admin/orgs/{org.Id}/keys"),
            (["usage", "--org", org.Id, "--month", month], $"admin/orgs/{org.Id}/usage?month={month}"),
            (["usage", "--key", key.Id, "--month", month], $"admin/keys/{key.Id}/usage?month={month}"),
            (["usage", "--user", user.Id, "--month", month], $"admin/users/{user.Id}/usage?month={month}"),
        ];
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
        foreach (var (args, path) in calls)
        {
            var run = await CliRunner.RunAsync([.. args, "--json"], _environment);
            Assert.True(run.ExitCode == ExitCodes.Ok, $"tollgate {string.Join(' ', args)} → {run}");
            using var printed = JsonDocument.Parse(run.Stdout);
            using var served = JsonDocument.Parse(await http.GetStringAsync(path));
            var difference = Difference(served.RootElement, printed.RootElement, "$");
            Assert.True(difference is null, $"tollgate {string.Join(' ', args)} --json differs from GET /{path}: {difference}\n{run.Stdout}");
        }

        // The usage report's fields the table leaves out are there (the issue's own list).
        using var usage = JsonDocument.Parse((await CliRunner.RunAsync(["usage", "--org", org.Id, "--json"], _environment)).Stdout);
        var row = usage.RootElement.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == Model);
        Assert.True(row.GetProperty("used_ms").GetInt64() > 0);
        foreach (var field in new[] { "remaining_ms", "reserved_ms", "charges" })
        {
            Assert.True(row.TryGetProperty(field, out _), $"usage --json lacks {field}: {row}");
        }
    }

    /// <summary>Where two JSON values differ, or null: members matched by name, times compared as instants, numbers as decimals.</summary>
    private static string? Difference(JsonElement expected, JsonElement actual, string at)
    {
        if (expected.ValueKind != actual.ValueKind)
        {
            return $"{at}: {expected.ValueKind} {expected} vs {actual.ValueKind} {actual}";
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var names = expected.EnumerateObject().Select(p => p.Name).ToHashSet();
                var extra = actual.EnumerateObject().Select(p => p.Name).Where(n => !names.Contains(n)).ToList();
                if (extra.Count > 0)
                {
                    return $"{at}: printed fields the server did not send: {string.Join(", ", extra)}";
                }
                foreach (var member in expected.EnumerateObject())
                {
                    if (!actual.TryGetProperty(member.Name, out var other))
                    {
                        return $"{at}.{member.Name}: missing";
                    }
                    if (Difference(member.Value, other, $"{at}.{member.Name}") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var left = expected.EnumerateArray().ToList();
                var right = actual.EnumerateArray().ToList();
                if (left.Count != right.Count)
                {
                    return $"{at}: {left.Count} items vs {right.Count}";
                }
                return left.Zip(right).Select((pair, i) => Difference(pair.First, pair.Second, $"{at}[{i}]")).FirstOrDefault(d => d is not null);
            case JsonValueKind.Number:
                return expected.GetDecimal() == actual.GetDecimal() ? null : $"{at}: {expected} vs {actual}";
            case JsonValueKind.String:
                var a = expected.GetString();
                var b = actual.GetString();
                if (a == b)
                {
                    return null;
                }
                return DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t1)
                    && DateTimeOffset.TryParse(b, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t2) && t1 == t2
                    ? null
                    : $"{at}: \"{a}\" vs \"{b}\"";
            default:
                return null;
        }
    }
}
