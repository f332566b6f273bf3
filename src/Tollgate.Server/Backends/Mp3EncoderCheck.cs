using Tollgate.Backends.Reference.Codecs.Mp3;

namespace Tollgate.Server.Backends;

/// <summary>
/// Says at start-up whether the reference backend can encode MP3 (libmp3lame), which the PII/PHI redaction answers
/// need: one warning naming the package to install when it cannot (those endpoints then answer 503
/// <c>mp3_encoder_unavailable</c>), one information line with LAME's version when it can.
/// </summary>
internal sealed partial class Mp3EncoderCheck(Mp3Availability availability, ILogger<Mp3EncoderCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (availability.Available)
        {
            LogAvailable(logger, availability.Version ?? "?");
        }
        else
        {
            LogUnavailable(logger, availability.Problem!);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "MP3 encoding: LAME {Version}")]
    private static partial void LogAvailable(ILogger logger, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem}")]
    private static partial void LogUnavailable(ILogger logger, string problem);
}
