using Microsoft.Extensions.Options;
using Tollgate.Models;

namespace Tollgate.Server.Hosting;

/// <summary>Checks the whole <c>Tollgate</c> section and reports every bad setting at once, by its path.</summary>
internal sealed class TollgateOptionsValidator : IValidateOptions<TollgateOptions>
{
    public ValidateOptionsResult Validate(string? name, TollgateOptions options)
    {
        var errors = new List<string>();
        foreach (var (model, backend) in options.Backends)
        {
            var path = $"{TollgateOptions.Section}:Backends:{model}";
            if (!ModelCatalog.TryGet(model, out _))
            {
                errors.Add($"{path}: no model is named '{model}'. Known models: {string.Join(", ", ModelCatalog.Names)}.");
            }
            if (string.IsNullOrWhiteSpace(backend.Url))
            {
                errors.Add($"{path}:Url is required (the upstream base URL, e.g. https://models.internal).");
            }
            else if (!Uri.TryCreate(backend.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{path}:Url must be an absolute http:// or https:// URL (was '{backend.Url}').");
            }
        }
        if (options.Bootstrap.DemoConcurrency is < 1 or > 10_000)
        {
            errors.Add($"{TollgateOptions.Section}:Bootstrap:DemoConcurrency must be between 1 and 10000 (was {options.Bootstrap.DemoConcurrency}).");
        }
        if (!double.IsFinite(options.Bootstrap.DemoMonthlyAudioHours) || options.Bootstrap.DemoMonthlyAudioHours is < 0 or > 1_000_000)
        {
            errors.Add($"{TollgateOptions.Section}:Bootstrap:DemoMonthlyAudioHours must be a number of hours between 0 and 1000000 (was {options.Bootstrap.DemoMonthlyAudioHours}).");
        }
        if (options.Admin.Token is { Length: > 0 and < 16 })
        {
            errors.Add($"{TollgateOptions.Section}:Admin:Token must be at least 16 characters long.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
