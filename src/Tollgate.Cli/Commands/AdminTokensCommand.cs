using System.CommandLine;
using Tollgate.Cli.Output;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate admin-tokens create [--name] [--org]</c>, <c>admin-tokens list</c>, <c>admin-tokens revoke &lt;tokenId&gt;</c>.</summary>
internal static class AdminTokensCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Option<string?>("--name") { Description = "A label for the token", HelpName = "name" };
        var org = new Option<string?>("--org")
        {
            Description = "The organization it may administer (only that organization's calls) [default: none, an operator token]",
            HelpName = "orgId",
        };
        var create = new Command("create", "Create an admin token; its secret is printed once (operator tokens only)") { name, org };
        create.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var created = await client.CreateAdminTokenAsync(parse.GetValue(name), parse.GetValue(org), token);
            if (output.IsJson)
            {
                output.Json(created);
                return;
            }
            output.MarkupLine("[yellow bold]Store this token now: it cannot be shown again.[/]");
            output.Line();
            output.Line("  " + created.Token);
            output.Line();
            output.Line(created.OrgId is null
                ? $"Admin token {created.Id}: an operator token (every call)."
                : $"Admin token {created.Id}: administers organization {created.OrgId} only.");
        }, ct));

        var list = new Command("list", "List admin tokens (prefixes only, never secrets)");
        list.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var tokens = await client.ListAdminTokensAsync(token);
            if (output.IsJson)
            {
                output.Json(tokens);
                return;
            }
            output.Write(Tables.AdminTokens(tokens));
        }, ct));

        var tokenId = new Argument<string>("tokenId") { Description = "The admin token's id (not its secret)" };
        var revoke = new Command("revoke", "Revoke an admin token: refused from the next call, on every node") { tokenId };
        revoke.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var id = parse.GetRequiredValue(tokenId);
            await client.RevokeAdminTokenAsync(id, token);
            if (!output.IsJson)
            {
                output.Line($"Admin token {id} revoked.");
            }
        }, ct));

        return new Command("admin-tokens", "Admin tokens: operator tokens, or organization admin tokens limited to one organization") { create, list, revoke };
    }
}
