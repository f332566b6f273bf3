using System.CommandLine;
using Tollgate.Cli.Output;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate users create --org &lt;orgId&gt; &lt;name&gt;</c>, <c>tollgate users list --org &lt;orgId&gt;</c>.</summary>
internal static class UsersCommand
{
    public static Command Create(CliContext context)
    {
        var createOrg = CommonOptions.Org();
        var name = new Argument<string>("name") { Description = "The user's display name" };
        var create = new Command("create", "Create a user in an organization") { createOrg, name };
        create.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var user = await client.CreateUserAsync(parse.GetRequiredValue(createOrg), parse.GetRequiredValue(name), token);
            if (output.IsJson)
            {
                output.Json(user);
                return;
            }
            output.Line($"User {user.Id} created.");
            output.Write(Tables.Users([user]));
        }, ct));

        var listOrg = CommonOptions.Org();
        var list = new Command("list", "List an organization's users") { listOrg };
        list.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var users = await client.ListUsersAsync(parse.GetRequiredValue(listOrg), token);
            if (output.IsJson)
            {
                output.Json(users);
                return;
            }
            output.Write(Tables.Users(users));
        }, ct));

        return new Command("users", "Users of an organization: keys belong to users") { create, list };
    }
}
