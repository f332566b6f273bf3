using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Tollgate.Server.Hosting;

/// <summary>
/// The server cannot start because of its configuration: every problem found, each one line naming the setting and
/// the value it was given. The process exits with <see cref="TollgateProgram.ConfigurationExitCode"/>.
/// </summary>
internal sealed class ConfigurationException(IReadOnlyList<string> problems)
    : InvalidOperationException(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>One configuration section to check at start-up: reading its options binds and validates it.</summary>
internal sealed record StartupCheck(Func<IServiceProvider, object?> Read);

/// <summary>
/// A configuration problem found while the services were registered (a connection string naming no store, say):
/// kept and reported with every other section's problems instead of stopping the registration at the first one.
/// </summary>
internal sealed record StartupProblem(string Message);

/// <summary>
/// Checks every configuration section at once, right after the host is built and before anything reads one: binding
/// errors (<c>credits=abc</c>) and validation failures of every section are collected, so one start names them all.
/// </summary>
internal static partial class StartupValidation
{
    /// <exception cref="ConfigurationException">At least one setting is wrong.</exception>
    public static void Run(IServiceProvider services)
    {
        var problems = services.GetServices<StartupProblem>().Select(p => p.Message).ToList();
        foreach (var check in services.GetServices<StartupCheck>())
        {
            try
            {
                check.Read(services);
            }
            catch (Exception ex)
            {
                problems.AddRange(Describe(ex));
            }
        }
        if (problems.Count == 0)
        {
            // Sections registered with a plain ValidateOnStart (not through ValidatedOptions) are checked here.
            try
            {
                services.GetRequiredService<IStartupValidator>().Validate();
            }
            catch (Exception ex) when (ex is OptionsValidationException or AggregateException or InvalidOperationException)
            {
                problems.AddRange(Describe(ex));
            }
        }
        if (problems.Count > 0)
        {
            throw new ConfigurationException(problems.Distinct(StringComparer.Ordinal).ToList());
        }
    }

    /// <summary>Each problem <paramref name="error"/> stands for, in one line each.</summary>
    public static IEnumerable<string> Describe(Exception error) => error switch
    {
        ConfigurationException configuration => configuration.Problems,
        OptionsValidationException validation => validation.Failures,
        AggregateException aggregate => aggregate.InnerExceptions.SelectMany(Describe),
        _ => [BindingProblem(error.Message) ?? OneLine(error.Message)],
    };

    /// <summary>The configuration binder's "Failed to convert configuration value 'abc' at 'A:B' to type 'System.Int32'." in user terms.</summary>
    private static string? BindingProblem(string message)
    {
        var match = BinderMessage().Match(message);
        if (!match.Success)
        {
            return null;
        }
        var (value, path, type) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
        var expected = type switch
        {
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" => "a whole number, e.g. 5",
            "System.Double" or "System.Single" or "System.Decimal" => "a number, e.g. 2.5",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:00:30",
            _ when type.Contains('.') => "a " + type[(type.LastIndexOf('.') + 1)..] + " value",
            _ => "a " + type + " value",
        };
        return $"{path} must be {expected} (was '{value}').";
    }

    public static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^Failed to convert configuration value '(.*)' at '(.*)' to type '(.*)'\.", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
