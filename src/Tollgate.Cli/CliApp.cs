using System.CommandLine;
using System.CommandLine.Invocation;
using Tollgate.Cli.Commands;

namespace Tollgate.Cli;

/// <summary>The <c>tollgate</c> command, runnable in-process: tests call <see cref="RunAsync(string[], TextWriter, TextWriter, HttpMessageHandler?)"/>.</summary>
internal static class CliApp
{
    /// <summary>Parses <paramref name="args"/>, runs the command, returns the exit code (<see cref="ExitCodes"/>).</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="stdout">Where tables, JSON and help go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="handler">The HTTP handler to reach the server with; default a new <see cref="SocketsHttpHandler"/> per run.</param>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler = null) =>
        RunAsync(args, stdout, stderr, handler, Environment.GetEnvironmentVariable);

    /// <param name="environment">Reads environment variables (tests pass their own).</param>
    internal static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        HttpMessageHandler? handler,
        Func<string, string?> environment,
        CancellationToken cancellationToken = default)
    {
        var context = new CliContext(stdout, stderr, handler, environment);
        var parse = BuildRootCommand(context).Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }
            stderr.WriteLine($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.UsageError;
        }

        var interactive = ReferenceEquals(stdout, Console.Out);
        return await parse.InvokeAsync(new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Ctrl+C cancels the token given to actions; only when we own the console. process/dub let the files in
            // flight finish for Backlog.StopGrace, so the process waits a little longer than that.
            ProcessTerminationTimeout = interactive ? Backlog.StopGrace + TimeSpan.FromSeconds(5) : null,
        }, cancellationToken);
    }

    internal static RootCommand BuildRootCommand(CliContext context)
    {
        Command[] admin = [OrgsCommand.Create(context), UsersCommand.Create(context), KeysCommand.Create(context), UsageCommand.Create(context), AdminTokensCommand.Create(context)];
        Command[] calls = [ProcessCommand.Create(context), DubCommand.Create(context), StreamCommand.Create(context)];
        var root = new RootCommand("tollgate: administer a Tollgate gateway (organizations, users, API keys, usage, admin tokens) and call its models (batch, stream). "
            + ExitCodes.AdminHelp);
        foreach (var command in admin)
        {
            // Only the Admin API's commands take the admin token (recursive: their subcommands too).
            command.Options.Add(context.Options.AdminToken);
            root.Subcommands.Add(command);
        }
        foreach (var command in calls)
        {
            root.Subcommands.Add(command);
        }
        root.Options.Add(context.Options.Url);
        root.Options.Add(context.Options.Json);
        foreach (var command in admin)
        {
            DocumentExitCodes(command);
        }
        return root;
    }

    /// <summary>Every admin command's help ends with its exit codes (process, dub and stream state their own).</summary>
    private static void DocumentExitCodes(Command command)
    {
        if (command.Description is { } description && !description.Contains("Exit codes:", StringComparison.Ordinal))
        {
            command.Description = description.TrimEnd('.') + ". " + ExitCodes.AdminHelp;
        }
        foreach (var sub in command.Subcommands)
        {
            DocumentExitCodes(sub);
        }
    }

    /// <summary><c>tollgate keys create</c> for the command the parse reached (the root's own name is the host's file name).</summary>
    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Add(result.Command.Name);
        }
        names.Add("tollgate");
        names.Reverse();
        return string.Join(' ', names);
    }
}
