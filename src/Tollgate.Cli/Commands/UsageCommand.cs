using System.CommandLine;
using System.Globalization;
using System.Net;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate usage --org &lt;orgId&gt; | --key &lt;keyId&gt; | --user &lt;userId&gt; [--month YYYY-MM]</c>.</summary>
internal static class UsageCommand
{
    public static Command Create(CliContext context)
    {
        var org = new Option<string?>("--org") { Description = "An organization's pooled usage: used, limit, remaining, in flight", HelpName = "orgId" };
        var key = new Option<string?>("--key") { Description = "What one key was charged", HelpName = "keyId" };
        var user = new Option<string?>("--user") { Description = "What one user was charged, through all their keys", HelpName = "userId" };
        var month = MonthOption();
        var command = new Command("usage", "Usage per model for one month: of an organization (--org), a key (--key) or a user (--user)") { org, key, user, month };
        command.Validators.Add(result =>
        {
            var given = new[] { org, key, user }.Count(o => result.GetResult(o) is not null);
            if (given != 1)
            {
                result.AddError("usage: give exactly one of --org <orgId>, --key <keyId> or --user <userId>.");
            }
        });
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            if (parse.GetValue(key) is not null || parse.GetValue(user) is not null)
            {
                var charged = parse.GetValue(key) is { } k
                    ? await client.GetKeyUsageAsync(k, parse.GetValue(month), token)
                    : await client.GetUserUsageAsync(parse.GetValue(user)!, parse.GetValue(month), token);
                if (output.IsJson)
                {
                    output.Json(charged);
                    return;
                }
                output.Line(charged.KeyId is { } id
                    ? $"Key {id} (user {charged.UserId}, organization {charged.OrgId}), {charged.Month}"
                    : $"User {charged.UserId} (organization {charged.OrgId}), {charged.Month}");
                output.Write(Tables.Charged(charged));
                return;
            }
            var orgId = parse.GetValue(org)!;
            UsageReport report;
            try
            {
                report = await client.GetUsageAsync(orgId, parse.GetValue(month), token);
            }
            catch (TollgateApiException ex) when (ex is { StatusCode: HttpStatusCode.NotFound, Code: null })
            {
                // No error body: the route itself is missing, i.e. a server from before usage reports.
                throw new TollgateApiException(ex.StatusCode, null,
                    $"This server does not offer usage reports yet (GET /admin/orgs/{orgId}/usage is not found); upgrade it.");
            }
            if (output.IsJson)
            {
                output.Json(report);
                return;
            }
            output.Line($"Organization {report.OrgId}, {report.Month} (resets {Tables.Time(report.ResetAt)})");
            output.Write(Tables.Usage(report));
        }, ct));
        command.Subcommands.Add(UsageExportCommand.Create(context));
        return command;
    }

    internal static Option<string?> MonthOption()
    {
        var month = new Option<string?>("--month")
        {
            Description = "The month, YYYY-MM (UTC) [default: the current month]",
            HelpName = "YYYY-MM",
        };
        month.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !DateTime.TryParseExact(value, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                result.AddError($"--month: '{value}' is not a month; expected YYYY-MM, e.g. 2025-01.");
            }
        });
        return month;
    }
}
