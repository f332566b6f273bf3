namespace Tollgate.Cli;

/// <summary>What <c>tollgate</c> returns to the shell.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The server refused (detail and code on stderr) or could not be reached.</summary>
    public const int ApiError = 1;

    /// <summary>The command line was wrong: unknown command, missing or malformed option, no admin token.</summary>
    public const int UsageError = 2;
}
