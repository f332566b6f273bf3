using System.CommandLine;

namespace Tollgate.Cli;

/// <summary>The options every command takes (recursive on the root command).</summary>
internal sealed class GlobalOptions
{
    public const string UrlVariable = "TOLLGATE_URL";
    public const string AdminTokenVariable = "TOLLGATE_ADMIN_TOKEN";
    public const string DefaultUrl = "http://127.0.0.1:5080";

    // No DefaultValueFactory: help would print the token found in the environment. CliContext applies the fallbacks.
    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The Tollgate server [env: {UrlVariable}; default: {DefaultUrl}]",
        HelpName = "url",
        Recursive = true,
    };

    public Option<string?> AdminToken { get; } = new("--admin-token")
    {
        Description = $"The admin token [env: {AdminTokenVariable}]",
        HelpName = "token",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the server's JSON instead of tables (for scripts)",
        Recursive = true,
    };
}
