using Microsoft.Extensions.Options;
using Tollgate.Blobs;
using Tollgate.Identity;
using Tollgate.Jobs;
using Tollgate.Limits;
using Tollgate.Metering;
using Tollgate.Models;
using Tollgate.Platform;
using Tollgate.Server.Backends;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Platform;

/// <summary>Wires the Platform API: its options (validated at start), the requests and the <c>platform</c> job handler over the storage's Platform store and blobs, the backends as its analyzer, and the start-up and expiry work.</summary>
internal static class PlatformServiceCollectionExtensions
{
    public static IServiceCollection AddPlatformApi(this IServiceCollection services)
    {
        services.AddValidatedOptions<PlatformOptions>(PlatformOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<IPlatformProcessingGate, OpenPlatformProcessingGate>();
        services.AddSingleton<IPlatformAnalyzer, BackendAnalyzer>();
        services.AddSingleton(sp => new PlatformRequests(
            sp.GetRequiredService<IPlatformStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<JobQueue>(),
            sp.GetRequiredService<IOptions<PlatformOptions>>().Value,
            sp.GetRequiredService<IOptions<LeaseOptions>>().Value.TtlValue,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IJobHandler>(sp => new PlatformProcessing(
            sp.GetRequiredService<IPlatformStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<IIdentityStore>(),
            sp.GetRequiredService<AudioQuota>(),
            sp.GetRequiredService<IUsageLedger>(),
            sp.GetRequiredService<IPlatformAnalyzer>(),
            sp.GetRequiredService<IPlatformProcessingGate>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<PlatformEndpoint>();
        services.AddSingleton<RealtimeTokens>();
        services.AddSingleton<PlatformRealtimeEndpoint>();
        // Registered before the job engine (AddJobs), so the start-up sweep has run when the engine first claims.
        services.AddHostedService<PlatformHousekeeping>();
        return services;
    }
}

/// <summary>Platform jobs reach each model through the backend the Models API uses for it (reference or upstream).</summary>
internal sealed class BackendAnalyzer(BackendRegistry backends) : IPlatformAnalyzer
{
    public Task<AnalysisResult> AnalyzeAsync(AnalysisRequest request, CancellationToken ct) =>
        backends.For(ModelCatalog.Get(request.Model)).AnalyzeAsync(request, ct);
}

/// <summary>
/// At start, enqueues the work of every finalized job not yet done (a crash between storing and enqueuing, or a job
/// whose engine job was lost); then, every <see cref="PlatformOptions.ExpirySweepSeconds"/>, fails the open jobs whose
/// time has passed and deletes their audio, and fails the realtime jobs whose stream's node stopped renewing them.
/// </summary>
internal sealed partial class PlatformHousekeeping(PlatformRequests requests, TimeProvider time, IOptions<PlatformOptions> options, ILogger<PlatformHousekeeping> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var resumed = await requests.EnqueuePendingAsync(cancellationToken);
        if (resumed > 0)
        {
            LogResuming(logger, resumed);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ExpirySweep, time);
        try
        {
            do
            {
                try
                {
                    var expired = await requests.ExpireDueAsync(stoppingToken);
                    if (expired > 0)
                    {
                        LogExpired(logger, expired);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSweepFailed(logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming {Count} Platform API jobs left by a previous run")]
    private static partial void LogResuming(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} Platform API jobs that were never finalized or whose stream's node stopped")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Platform API expiry sweep failed; it runs again at its next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception ex);
}
