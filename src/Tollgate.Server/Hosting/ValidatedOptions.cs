using Microsoft.Extensions.Options;

namespace Tollgate.Server.Hosting;

/// <summary>
/// One way to register a configuration section: bound from its path, checked by one <see cref="IValidateOptions{TOptions}"/>
/// that reports every problem at once (each naming its configuration path), and validated at start-up together with
/// every other section before anything reads it.
/// </summary>
internal static class ValidatedOptions
{
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, string sectionPath, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        services.AddOptions<T>().BindConfiguration(sectionPath).ValidateOnStart();
        return services.AddOptionsValidator(validate);
    }

    /// <summary>The one validator of <typeparamref name="T"/>, for a section bound some other way (validated at start-up all the same).</summary>
    public static IServiceCollection AddOptionsValidator<T>(this IServiceCollection services, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        services.AddOptions<T>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new Validator<T>(validate));
        return services.AddStartupCheck<T>();
    }

    /// <summary>Has <see cref="StartupValidation"/> read (bind and validate) <typeparamref name="T"/> with every other section.</summary>
    public static IServiceCollection AddStartupCheck<T>(this IServiceCollection services)
        where T : class
    {
        services.AddSingleton(new StartupCheck(static sp => sp.GetRequiredService<IOptions<T>>().Value));
        return services;
    }

    private sealed class Validator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            validate(options).ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
