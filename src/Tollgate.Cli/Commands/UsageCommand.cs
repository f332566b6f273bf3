using System.CommandLine;
using System.Globalization;
using System.Net;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate usage --org &lt;orgId&gt; [--month YYYY-MM]</c>.</summary>
internal static class UsageCommand
{
    public static Command Create(CliContext context)
    {
        var org = CommonOptions.Org();
        var month = MonthOption();
        var command = new Command("usage", "An organization's usage per model for one month: hours used, limit, remaining, in flight") { org, month };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var orgId = parse.GetRequiredValue(org);
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
