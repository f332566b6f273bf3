using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tollgate.Dubbing;
using Tollgate.Blobs;

namespace Tollgate.Server.Dubbing;

/// <summary>Wires the Dubbing API: options (validated at start), the workflow over the store's dubbing store and blobs, the link fetcher and the workers.</summary>
internal static class DubbingServiceCollectionExtensions
{
    public static IServiceCollection AddDubbing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DubbingOptions>().Bind(configuration.GetSection(DubbingOptions.SectionPath)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DubbingOptions>, DubbingOptionsValidator>();
        services.AddSingleton<IDubProcessingGate, OpenDubProcessingGate>();
        services.TryAddSingleton(Tollgate.Backends.Reference.Dubbing.ReferenceDubRenderer.Processor);
        services.AddSingleton(sp => new DubbingService(
            sp.GetRequiredService<IDubbingStore>(),
            sp.GetRequiredService<IBlobStore>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<DubbingOptions>>().Value,
            sp.GetRequiredService<IDubProcessingGate>(),
            sp.GetRequiredService<IDubProcessor>()));
        services.AddSingleton<SourceFetcher>();
        services.AddHostedService<DubbingWorker>();
        return services;
    }

    private sealed class DubbingOptionsValidator : IValidateOptions<DubbingOptions>
    {
        public ValidateOptionsResult Validate(string? name, DubbingOptions options) =>
            options.Validate().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
