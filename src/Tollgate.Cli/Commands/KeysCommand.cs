using System.CommandLine;
using System.CommandLine.Parsing;
using Tollgate.Cli.Output;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary><c>tollgate keys create|list|show|revoke|rotate</c>.</summary>
internal static class KeysCommand
{
    public static Command Create(CliContext context) =>
        new("keys", "API keys: entitlements fixed at creation, secret shown once")
        {
            CreateKey(context),
            ListKeys(context),
            ShowKey(context),
            RevokeKey(context),
            RotateKey(context),
        };

    /// <summary>
    /// <c>--model &lt;spec&gt;</c>, repeatable, parsed into the create-key body's <c>models</c>. A malformed spec is a
    /// parse error, so it exits with the usage code before any request is made.
    /// </summary>
    internal static Option<IReadOnlyDictionary<string, ModelLimits>> ModelOption() => new("--model")
    {
        Description = $"A model the key may call, with its limits: {ModelSpec.Syntax} (repeat for more models), e.g. {ModelSpec.Example}",
        HelpName = "spec",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        CustomParser = ParseModels,
    };

    private static IReadOnlyDictionary<string, ModelLimits>? ParseModels(ArgumentResult result)
    {
        if (ModelSpec.TryParseAll(result.Tokens.Select(t => t.Value), out var models, out var error))
        {
            return models;
        }
        result.AddError(error);
        return null;
    }

    private static Command CreateKey(CliContext context)
    {
        var org = CommonOptions.Org();
        var user = new Option<string>("--user") { Description = "The user who owns the key", HelpName = "userId", Required = true };
        var name = new Option<string?>("--name") { Description = "A label for the key", HelpName = "name" };
        var models = ModelOption();
        var command = new Command("create", "Create an API key; its secret is printed once") { org, user, name, models };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var key = await client.CreateKeyAsync(
                parse.GetRequiredValue(org), parse.GetRequiredValue(user), parse.GetRequiredValue(models), parse.GetValue(name), token);
            if (output.IsJson)
            {
                output.Json(key);
                return;
            }
            output.MarkupLine("[yellow bold]Store this key now: it cannot be shown again.[/]");
            output.Line();
            output.Line("  " + key.Key);
            output.Line();
            output.Write(Tables.CreatedKey(key));
            output.Line();
            output.Write(Tables.Entitlements(key.Models));
        }, ct));
        return command;
    }

    private static Command ListKeys(CliContext context)
    {
        var org = CommonOptions.Org();
        var paging = new PageOptions();
        var command = new Command("list", "List an organization's keys (prefixes only, never secrets), oldest first, a page at a time") { org };
        paging.AddTo(command);
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, (client, output, token) =>
            paging.PrintAsync(parse, output, (limit, after, c) => client.ListKeysAsync(parse.GetRequiredValue(org), limit, after, c), Tables.Keys, token), ct));
        return command;
    }

    private static Command ShowKey(CliContext context)
    {
        var keyId = KeyIdArgument();
        var command = new Command("show", "Show one key: prefix, owner, entitlements, created, last used, revoked") { keyId };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var key = await client.GetKeyAsync(parse.GetRequiredValue(keyId), token);
            if (output.IsJson)
            {
                output.Json(key);
                return;
            }
            output.Write(Tables.Key(key));
            output.Line();
            output.Write(Tables.Entitlements(key.Models));
        }, ct));
        return command;
    }

    private static Command RevokeKey(CliContext context)
    {
        var keyId = KeyIdArgument();
        var command = new Command("revoke", "Revoke a key, immediately") { keyId };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var id = parse.GetRequiredValue(keyId);
            await client.RevokeKeyAsync(id, token);
            if (!output.IsJson)
            {
                output.Line($"Key {id} revoked.");
            }
        }, ct));
        return command;
    }

    private static Command RotateKey(CliContext context)
    {
        var keyId = KeyIdArgument();
        var overlap = new Option<TimeSpan?>("--overlap")
        {
            Description = "How long the old key keeps working: <n>s|m|h|d, up to 90d; 0s revokes it at once [default: the server's, 24h]",
            HelpName = "duration",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Durations.TryParse(text, out var span))
                {
                    return span;
                }
                result.AddError($"--overlap: '{text}' is not a duration; expected e.g. 24h, 30m, 90s or 0s.");
                return null;
            },
        };
        var command = new Command("rotate", "Replace a key with a new one of the same owner and entitlements (secret printed once); the old one works for the overlap, then stops")
        {
            keyId,
            overlap,
        };
        command.SetAction((parse, ct) => context.RunAdminAsync(parse, async (client, output, token) =>
        {
            var rotated = await client.RotateKeyAsync(parse.GetRequiredValue(keyId), parse.GetValue(overlap), token);
            if (output.IsJson)
            {
                output.Json(rotated);
                return;
            }
            output.MarkupLine("[yellow bold]Store this key now: it cannot be shown again.[/]");
            output.Line();
            output.Line("  " + rotated.Key.Key);
            output.Line();
            output.Write(Tables.CreatedKey(rotated.Key));
            output.Line();
            output.Line(rotated.Replaced.RevokedAt is not null
                ? $"Key {rotated.Replaced.Id} is revoked."
                : $"Key {rotated.Replaced.Id} keeps working until {Tables.Time(rotated.Replaced.ExpiresAt)}.");
        }, ct));
        return command;
    }

    private static Argument<string> KeyIdArgument() => new("keyId") { Description = "The key's id (not its secret)" };
}
