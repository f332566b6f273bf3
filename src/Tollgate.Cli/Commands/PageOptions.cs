using System.CommandLine;
using Tollgate.Cli.Output;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary><c>--limit</c>, <c>--after</c> and <c>--all</c> of the list commands; a new instance per command.</summary>
internal sealed class PageOptions
{
    public Option<int?> Limit { get; } = new("--limit")
    {
        Description = "At most this many per page, 1 to 1000 [default: the server's, 100]",
        HelpName = "n",
    };

    public Option<string?> After { get; } = new("--after")
    {
        Description = "Start after this id: the 'next' a previous page printed",
        HelpName = "cursor",
    };

    public Option<bool> All { get; } = new("--all") { Description = "Every page, one after the other" };

    public PageOptions()
    {
        Limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } n && n is < 1 or > 1000)
            {
                result.AddError($"--limit: must be from 1 to 1000 (was {n}).");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Limit);
        command.Options.Add(After);
        command.Options.Add(All);
    }

    /// <summary>
    /// Prints one page (JSON <c>{"items", "next"}</c>, or the table and the cursor of the next page) or, with <c>--all</c>,
    /// every item (JSON array, or one table).
    /// </summary>
    public async Task PrintAsync<T>(ParseResult parse, CliOutput output, Func<int?, string?, CancellationToken, Task<Page<T>>> page,
        Func<IEnumerable<T>, Spectre.Console.Rendering.IRenderable> table, CancellationToken ct)
    {
        if (parse.GetValue(All))
        {
            var items = new List<T>();
            var after = parse.GetValue(After);
            do
            {
                var current = await page(parse.GetValue(Limit), after, ct);
                items.AddRange(current.Items);
                after = current.Next;
            }
            while (after is not null);
            if (output.IsJson)
            {
                output.Json(items);
                return;
            }
            output.Write(table(items));
            return;
        }
        var one = await page(parse.GetValue(Limit), parse.GetValue(After), ct);
        if (output.IsJson)
        {
            output.Json(one);
            return;
        }
        output.Write(table(one.Items));
        if (one.Next is { } next)
        {
            output.Line($"More: add --after {next} (or --all).");
        }
    }
}
