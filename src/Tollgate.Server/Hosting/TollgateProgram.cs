namespace Tollgate.Server.Hosting;

/// <summary>
/// The process around the app: a failed start is told in one line per problem on standard error, without a stack
/// trace unless asked for (<c>--verbose</c>, or <c>Logging__LogLevel__Default=Debug</c>), and with an exit code that
/// says whose turn it is: <see cref="ConfigurationExitCode"/> for a setting to fix, <see cref="FailureExitCode"/> for
/// anything else (a port already taken, a data folder that cannot be written).
/// </summary>
internal static class TollgateProgram
{
    public const int ConfigurationExitCode = 2;
    public const int FailureExitCode = 1;
    public const string VerboseArgument = "--verbose";

    public static int Run(string[] args)
    {
        var verbose = args.Contains(VerboseArgument, StringComparer.OrdinalIgnoreCase)
            || IsDebugLevel(Environment.GetEnvironmentVariable("Logging__LogLevel__Default"));
        args = [.. args.Where(a => !string.Equals(a, VerboseArgument, StringComparison.OrdinalIgnoreCase))];
        StartupLogging.Verbose = verbose;
        WebApplication app;
        try
        {
            app = TollgateApplication.Build(args);
        }
        catch (Exception ex)
        {
            return Report(ex, verbose);
        }
        try
        {
            app.Run();
            return 0;
        }
        catch (Exception ex)
        {
            return Report(ex, verbose);
        }
        finally
        {
            (app as IDisposable)?.Dispose();
        }
    }

    private static bool IsDebugLevel(string? level) =>
        string.Equals(level, "Debug", StringComparison.OrdinalIgnoreCase) || string.Equals(level, "Trace", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes why the start failed to standard error; the exit code.</summary>
    public static int Report(Exception error, bool verbose, TextWriter? output = null)
    {
        output ??= Console.Error;
        var configuration = Unwrap(error) is ConfigurationException;
        foreach (var problem in StartupValidation.Describe(Unwrap(error)))
        {
            output.WriteLine("error: " + StartupValidation.OneLine(problem));
        }
        if (verbose)
        {
            output.WriteLine(error.ToString());
        }
        output.WriteLine(configuration
            ? "Tollgate did not start: fix the settings above (appsettings.json or Tollgate__… environment variables)."
            : "Tollgate did not start." + (verbose ? "" : " Run it with --verbose for the details."));
        output.Flush();
        return configuration ? ConfigurationExitCode : FailureExitCode;
    }

    /// <summary>The host wraps a hosted service's failure in an <see cref="AggregateException"/> of one.</summary>
    private static Exception Unwrap(Exception error) =>
        error is AggregateException { InnerExceptions.Count: 1 } single ? Unwrap(single.InnerExceptions[0]) : error;
}

/// <summary>
/// The host logs a start-up failure itself, stack trace and all (<c>Microsoft.Extensions.Hosting.Internal.Host</c>,
/// "Hosting failed to start"), before <see cref="TollgateProgram"/> says it in one line. That category is held off
/// until the server has started, unless the start is verbose; afterwards it logs as configured (a background service
/// that fails is still logged in full).
/// </summary>
internal static class StartupLogging
{
    public const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private static volatile bool s_started;

    /// <summary>Set by <see cref="TollgateProgram"/>: whether start-up failures are logged with their stack traces.</summary>
    public static bool Verbose { get; set; } = true;

    public static ILoggingBuilder AddStartupLogging(this ILoggingBuilder logging)
    {
        logging.AddFilter(HostCategory, static level => level >= (Verbose ? LogLevel.Debug : LogLevel.Information) && (s_started || Verbose));
        return logging;
    }

    /// <summary>The server is listening: the host's own log is wanted again.</summary>
    public static void Started() => s_started = true;
}
