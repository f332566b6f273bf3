using System.CommandLine;
using Tollgate.Cli.Output;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate orgs create &lt;name&gt;</c>, <c>orgs list [--limit] [--after] [--all]</c>, <c>orgs get &lt;orgId&gt;</c>.</summary>
internal static class OrgsCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string>("name") { Description = "The organization's display name" };
        var create = new Command("create", "Create an organization") { name };
        create.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var org = await client.CreateOrganizationAsync(parse.GetRequiredValue(name), token);
            if (output.IsJson)
            {
                output.Json(org);
                return;
            }
            output.Line($"Organization {org.Id} created.");
            output.Write(Tables.Organizations([org]));
        }, ct));

        var paging = new PageOptions();
        var list = new Command("list", "List organizations, oldest first, a page at a time");
        paging.AddTo(list);
        list.SetAction((parse, ct) => context.RunAdminAsync(parse, (client, output, token) =>
            paging.PrintAsync(parse, output, (limit, after, c) => client.ListOrganizationsAsync(limit, after, c), Tables.Organizations, token), ct));

        var orgId = new Argument<string>("orgId") { Description = "The organization's id" };
        var get = new Command("get", "Show one organization") { orgId };
        get.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var org = await client.GetOrganizationAsync(parse.GetRequiredValue(orgId), token);
            if (output.IsJson)
            {
                output.Json(org);
                return;
            }
            output.Write(Tables.Organizations([org]));
        }, ct));

        return new Command("orgs", "Organizations: the tenants that own users, keys and pooled limits") { create, list, get };
    }
}
