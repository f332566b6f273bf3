using Microsoft.Extensions.Options;
using Tollgate.Blobs;
using Tollgate.RateLimiting;

namespace Tollgate.Server.Hosting;

/// <summary>
/// The <c>Tollgate:Leftovers</c> section. <see cref="MinimumAge"/> (windows syntax: <c>15m</c>, <c>1h</c>) is how old
/// a blob nothing refers to, or the temporary file of an unfinished write, must be before the start-up sweep removes it:
/// on a folder shared by several nodes, a younger one may belong to a request another node is still serving.
/// </summary>
internal sealed record LeftoverOptions
{
    public const string SectionPath = "Tollgate:Leftovers";

    public string MinimumAge { get; init; } = "15m";

    public TimeSpan MinimumAgeValue => MinimumAge is "0" or "0s" ? TimeSpan.Zero
        : RateLimitValidator.TryParseWindowText(MinimumAge, out var age) ? age : TimeSpan.FromMinutes(15);

    public IEnumerable<string> Validate()
    {
        if (MinimumAge is not ("0" or "0s") && !RateLimitValidator.TryParseWindowText(MinimumAge, out _))
        {
            yield return $"{SectionPath}:MinimumAge must be a duration such as 15m, 1h or 0s (was '{MinimumAge}').";
        }
    }
}

/// <summary>
/// What a crash leaves behind is removed when the server starts, before it serves anything: every file in the upload
/// spool (the spool is this server's own: uploads in it belonged to requests that died with the previous process)
/// and, in a file-system blob store, the temporary files of writes a kill -9 cut short. Blobs that a crash left
/// without the record that refers to them are the workflows' to sweep (see <c>DubbingStartup</c>).
/// </summary>
internal sealed partial class LeftoverSweep(
    IOptions<TollgateOptions> options,
    IOptions<LeftoverOptions> leftovers,
    IBlobStore blobs,
    TimeProvider time,
    ILogger<LeftoverSweep> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var spool = options.Value.SpoolDirectory!;
        var spooled = 0;
        if (Directory.Exists(spool))
        {
            foreach (var file in Directory.EnumerateFiles(spool))
            {
                File.Delete(file);
                spooled++;
            }
        }
        var interrupted = blobs is FileSystemBlobStore files ? files.RemoveInterruptedWrites(time.GetUtcNow() - leftovers.Value.MinimumAgeValue) : 0;
        if (spooled + interrupted > 0)
        {
            LogSwept(logger, spooled, spool, interrupted);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed what the previous run left: {Spooled} upload(s) in {Spool}, {Interrupted} unfinished blob write(s)")]
    private static partial void LogSwept(ILogger logger, int spooled, string spool, int interrupted);
}
