using Tollgate.Cli;

namespace Tollgate.Infrastructure;

/// <summary>Runs <c>tollgate</c> in-process and captures what it printed.</summary>
internal static class CliRunner
{
    /// <summary>An environment with nothing set, so the machine's TOLLGATE_* variables never leak into a test.</summary>
    public static readonly Func<string, string?> NoEnvironment = _ => null;

    public static async Task<CliRun> RunAsync(string[] args, Func<string, string?>? environment = null, HttpMessageHandler? handler = null,
        CancellationToken cancellationToken = default)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), handler, environment ?? NoEnvironment, cancellationToken);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    public static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    /// <summary>A parse of the real command tree, without running anything.</summary>
    public static System.CommandLine.ParseResult Parse(params string[] args) =>
        CliApp.BuildRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, null, NoEnvironment)).Parse(args);
}

internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}
