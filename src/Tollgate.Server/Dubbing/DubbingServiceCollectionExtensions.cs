using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tollgate.Blobs;
using Tollgate.Dubbing;
using Tollgate.Jobs;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Dubbing;

/// <summary>Wires the Dubbing API: options (validated at start), the workflow over the storage's dubbing store and blobs (requests, and dub and voice jobs for the job engine), the link fetcher and the start-up work.</summary>
internal static class DubbingServiceCollectionExtensions
{
    public static IServiceCollection AddDubbing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<DubbingOptions>(DubbingOptions.SectionPath, static o => o.Validate());
        services.AddSingleton<IDubProcessingGate, OpenDubProcessingGate>();
        services.TryAddSingleton(Tollgate.Backends.Reference.Dubbing.ReferenceDubRenderer.Processor);
        services.AddSingleton(sp => new DubbingRequests(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DubbingOptions>>().Value,
            sp.GetRequiredService<JobQueue>()));
        services.AddSingleton(sp => new DubProcessing(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IDubProcessingGate>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton(sp => new VoiceTraining(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<DubProcessing>());
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<VoiceTraining>());
        services.AddSingleton<SourceFetcher>();
        // Registered before the job engine (AddJobs), so the start-up sweep has run when the engine first claims.
        services.AddHostedService<DubbingStartup>();
        return services;
    }
}
