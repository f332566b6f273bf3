using Microsoft.Extensions.Options;
using Tollgate.Dubbing;
using Tollgate.Jobs;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Jobs;

/// <summary>Wires the job engine over the storage's <see cref="IJobStore"/>: its options (validated at start), the queue producers use, and the engine as a hosted service running every registered <see cref="IJobHandler"/>.</summary>
internal static class JobsServiceCollectionExtensions
{
    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JobOptions>()
            .Configure(o =>
            {
                // Before the engine served every job, the dubbing section set its workers; those keys still apply
                // unless Tollgate:Jobs sets its own.
                var dubbing = configuration.GetSection(DubbingOptions.SectionPath);
                if (dubbing.GetValue<int?>(nameof(JobOptions.Workers)) is { } workers)
                {
                    o.Workers = workers;
                }
                if (dubbing.GetValue<double?>(nameof(JobOptions.PollSeconds)) is { } poll)
                {
                    o.PollSeconds = poll;
                }
                configuration.GetSection(JobOptions.SectionPath).Bind(o);
            })
            .ValidateOnStart();
        services.AddOptionsValidator<JobOptions>(static o => o.Validate());
        services.AddSingleton<JobWakeSignal>();
        services.AddSingleton(sp => new JobQueue(
            sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<JobWakeSignal>(), sp.GetRequiredService<IOptions<JobOptions>>().Value));
        services.AddSingleton<JobEngineLog>();
        services.AddSingleton(sp => new JobEngine(
            sp.GetRequiredService<IJobStore>(),
            sp.GetServices<IJobHandler>(),
            sp.GetRequiredService<JobWakeSignal>(),
            sp.GetRequiredService<IOptions<JobOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<JobEngineLog>()));
        services.AddHostedService<JobEngineService>();
        return services;
    }
}
