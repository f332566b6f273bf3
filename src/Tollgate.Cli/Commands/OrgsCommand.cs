using System.CommandLine;
using Tollgate.Cli.Output;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate orgs create &lt;name&gt;</c>, <c>tollgate orgs list</c>.</summary>
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

        var list = new Command("list", "List organizations");
        list.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var orgs = await client.ListOrganizationsAsync(token);
            if (output.IsJson)
            {
                output.Json(orgs);
                return;
            }
            output.Write(Tables.Organizations(orgs));
        }, ct));

        return new Command("orgs", "Organizations: the tenants that own users, keys and pooled limits") { create, list };
    }
}
