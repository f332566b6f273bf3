using System.CommandLine;

namespace Tollgate.Cli.Commands;

/// <summary>Options several commands share; a new instance per command, since a symbol has one parent.</summary>
internal static class CommonOptions
{
    public static Option<string> Org() => new("--org")
    {
        Description = "The organization's id",
        HelpName = "orgId",
        Required = true,
    };
}
