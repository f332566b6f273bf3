namespace Tollgate.Cli;

/// <summary>What <c>tollgate</c> returns to the shell.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The server refused (detail and code on stderr) or could not be reached.</summary>
    public const int ApiError = 1;

    /// <summary>The command line was wrong: unknown command, missing or malformed option, no admin token.</summary>
    public const int UsageError = 2;

    /// <summary><c>process</c>/<c>dub</c>: the monthly quota (or the dubbing credits) ran out; the files not sent are left for a later run.</summary>
    public const int QuotaExhausted = 3;

    /// <summary><c>process</c>/<c>dub</c>: stopped by Ctrl+C (as shells report SIGINT); run again to continue.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit codes of a command that makes one call (admin commands, <c>stream</c>), as <c>--help</c> lists them.</summary>
    public const string AdminHelp = "Exit codes: 0 done, 1 the server refused (detail and code on stderr) or could not be reached, 2 bad command line (or no admin token).";

    /// <summary>The exit codes of <c>stream</c>, as <c>--help</c> lists them.</summary>
    public const string StreamHelp = "Exit codes: 0 the stream ended with done, 1 the server refused or closed it with an error (reason and close code on stderr) or could not be reached, 2 bad command line.";

    /// <summary>The exit codes of <c>process</c> and <c>dub</c>, as <c>--help</c> lists them.</summary>
    public const string Help = "Exit codes: 0 all done, 1 the server refused (or a file failed), 2 bad command line, 3 monthly quota used up (the rest left for a later run), 130 stopped by Ctrl+C.";
}
