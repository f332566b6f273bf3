using System.CommandLine;
using Tollgate.Cli.Output;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate users create|list|get|disable|enable</c>.</summary>
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
        var paging = new PageOptions();
        var list = new Command("list", "List an organization's users, oldest first, a page at a time") { listOrg };
        paging.AddTo(list);
        list.SetAction((parse, ct) => context.RunAdminAsync(parse, (client, output, token) =>
            paging.PrintAsync(parse, output, (limit, after, c) => client.ListUsersAsync(parse.GetRequiredValue(listOrg), limit, after, c), Tables.Users, token), ct));

        return new Command("users", "Users of an organization: keys belong to users")
        {
            create,
            list,
            OneUser(context, "get", "Show one user", static (client, id, ct) => client.GetUserAsync(id, ct), null),
            OneUser(context, "disable", "Disable a user: their keys are refused (user_disabled) within a second, on every node, until enabled",
                static (client, id, ct) => client.DisableUserAsync(id, ct), "disabled"),
            OneUser(context, "enable", "Enable a disabled user: their keys work again",
                static (client, id, ct) => client.EnableUserAsync(id, ct), "enabled"),
        };
    }

    private static Command OneUser(CliContext context, string name, string description, Func<TollgateAdminClient, string, CancellationToken, Task<User>> call, string? done)
    {
        var userId = new Argument<string>("userId") { Description = "The user's id" };
        var command = new Command(name, description) { userId };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var user = await call(client, parse.GetRequiredValue(userId), token);
            if (output.IsJson)
            {
                output.Json(user);
                return;
            }
            if (done is not null)
            {
                output.Line($"User {user.Id} {done}.");
            }
            output.Write(Tables.Users([user]));
        }, ct));
        return command;
    }
}
