using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Polly;
using Tollgate.Client;
using Tollgate.Client.Admin;
using Tollgate.Client.Behavior;
using Tollgate.Client.Dubbing;
using Tollgate.Client.Models;
using Tollgate.Client.Platform;

// The extension lives where service registrations are looked for.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// <c>services.AddTollgateClient(…)</c>: the SDK's clients on <c>IHttpClientFactory</c>, with their options bound from
/// configuration and checked at start-up (every problem at once), and one <see cref="TollgateClientBehavior"/> (gates,
/// rate windows, totals) shared by every client the container hands out.
/// </summary>
public static class TollgateClientServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the registration configures (its handler runs the behaviour).</summary>
    public const string HttpClientName = "Tollgate";

    /// <summary>
    /// Registers the clients with options bound from <paramref name="configuration"/> (a section such as
    /// <c>configuration.GetSection("Tollgate")</c>: <c>BaseAddress</c>, <c>ApiKey</c>, <c>AccountId</c>, <c>AdminToken</c>,
    /// <c>MaxConcurrency</c>, <c>Retry:MaxRetryAttempts</c>…, see <see cref="TollgateClientOptions"/>).
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <returns>The <see cref="IHttpClientBuilder"/> of the named client, to add handlers or change its primary handler.</returns>
    public static IHttpClientBuilder AddTollgateClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddTollgateClient(options => configuration.Bind(options));
    }

    /// <summary>Registers the clients with options set in code.</summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Sets the options (<see cref="TollgateClientOptions.BaseAddress"/> at least).</param>
    /// <returns>The <see cref="IHttpClientBuilder"/> of the named client.</returns>
    /// <remarks>
    /// Resolves: <see cref="TollgateModelsClient"/>, <see cref="TollgatePlatformClient"/> (needs <c>AccountId</c>),
    /// <see cref="TollgateDubbingClient"/> (these three need <c>ApiKey</c>), <see cref="TollgateAdminClient"/> (needs
    /// <c>AdminToken</c>), each transient over the factory's client, and the singleton <see cref="TollgateClientBehavior"/>.
    /// The clock is the container's <see cref="TimeProvider"/> if one is registered, else the system's.
    /// </remarks>
    public static IHttpClientBuilder AddTollgateClient(this IServiceCollection services, Action<TollgateClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<TollgateClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TollgateClientOptions>, OptionsValidator>());
        services.TryAddSingleton(sp => new TollgateClientBehavior(
            sp.GetRequiredService<IOptions<TollgateClientOptions>>().Value, sp.GetService<TimeProvider>() ?? TimeProvider.System));

        var builder = services.AddHttpClient(HttpClientName, (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<TollgateClientOptions>>().Value;
            http.BaseAddress = options.BaseAddress;
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        builder.AddResilienceHandler("tollgate", (pipeline, context) =>
        {
            var behavior = context.ServiceProvider.GetRequiredService<TollgateClientBehavior>();
            pipeline.AddTollgateBehavior(behavior);
            if (behavior.Options.RequestTimeout != Timeout.InfiniteTimeSpan)
            {
                pipeline.AddTimeout(behavior.Options.RequestTimeout);
            }
        });

        services.TryAddTransient(sp => new TollgateModelsClient(Http(sp), Required(sp, o => o.ApiKey, "ApiKey"), sp.GetRequiredService<TollgateClientBehavior>()));
        services.TryAddTransient(sp =>
        {
            Required(sp, o => o.ApiKey, "ApiKey");
            Required(sp, o => o.AccountId, "AccountId");
            return new TollgatePlatformClient(Http(sp), sp.GetRequiredService<TollgateClientBehavior>());
        });
        services.TryAddTransient(sp =>
        {
            Required(sp, o => o.ApiKey, "ApiKey");
            return new TollgateDubbingClient(Http(sp), sp.GetRequiredService<TollgateClientBehavior>());
        });
        services.TryAddTransient(sp => new TollgateAdminClient(Http(sp), Required(sp, o => o.AdminToken, "AdminToken"),
            sp.GetRequiredService<TollgateClientBehavior>().Time));
        return builder;
    }

    private static HttpClient Http(IServiceProvider sp) => sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);

    private static string Required(IServiceProvider sp, Func<TollgateClientOptions, string?> value, string name) =>
        value(sp.GetRequiredService<IOptions<TollgateClientOptions>>().Value) is { Length: > 0 } v && !string.IsNullOrWhiteSpace(v)
            ? v
            : throw new InvalidOperationException($"TollgateClientOptions.{name} is not set (configuration key Tollgate:{name}); this client needs it.");

    private sealed class OptionsValidator : IValidateOptions<TollgateClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, TollgateClientOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Select(e => "Tollgate:" + e));
        }
    }
}
