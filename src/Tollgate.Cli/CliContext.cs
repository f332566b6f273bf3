using System.CommandLine;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Admin;

namespace Tollgate.Cli;

/// <summary>
/// What one run of <c>tollgate</c> works with: its writers, the HTTP handler (tests pass their own) and the
/// environment. Turns a parsed command into a call on <see cref="TollgateAdminClient"/> and its outcome into an exit code.
/// </summary>
internal sealed class CliContext(TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler, Func<string, string?> environment)
{
    public GlobalOptions Options { get; } = new();

    public TextWriter Stdout { get; } = stdout;

    public TextWriter Stderr { get; } = stderr;

    /// <summary>Runs an admin command: resolves --url/--admin-token, calls <paramref name="body"/>, maps failures to exit codes.</summary>
    public async Task<int> RunAdminAsync(ParseResult parse, Func<TollgateAdminClient, CliOutput, CancellationToken, Task> body, CancellationToken ct)
    {
        var url = parse.GetValue(Options.Url) ?? environment(GlobalOptions.UrlVariable) ?? GlobalOptions.DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            return UsageError($"--url: '{url}' is not an http:// or https:// URL.");
        }
        var token = parse.GetValue(Options.AdminToken) ?? environment(GlobalOptions.AdminTokenVariable);
        if (string.IsNullOrWhiteSpace(token))
        {
            return UsageError($"No admin token: pass --admin-token <token> or set {GlobalOptions.AdminTokenVariable}.");
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = baseAddress;
        http.Timeout = TimeSpan.FromSeconds(30);
        using var client = new TollgateAdminClient(http, token);
        var output = new CliOutput(Stdout, parse.GetValue(Options.Json));
        try
        {
            await body(client, output, ct);
            return ExitCodes.Ok;
        }
        catch (TollgateApiException ex)
        {
            var code = ex.Code is null ? "" : $" ({ex.Code})";
            Stderr.WriteLine($"error: {ex.Detail}{code} [HTTP {(int)ex.StatusCode}]");
            return ExitCodes.ApiError;
        }
        catch (HttpRequestException ex)
        {
            Stderr.WriteLine($"error: cannot reach Tollgate at {baseAddress}: {ex.Message}");
            return ExitCodes.ApiError;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            Stderr.WriteLine($"error: {baseAddress} answered with something other than Tollgate's JSON; is --url right? ({ex.Message})");
            return ExitCodes.ApiError;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            Stderr.WriteLine($"error: Tollgate at {baseAddress} did not answer within {http.Timeout.TotalSeconds:0} s.");
            return ExitCodes.ApiError;
        }
    }

    /// <summary>Runs a Models API command: resolves --url and the API key, calls <paramref name="body"/>, maps failures to exit codes.</summary>
    public Task<int> RunModelsAsync(ParseResult parse, Commands.ModelCallOptions call, Func<Uri, string, CancellationToken, Task<int>> body, CancellationToken ct) =>
        RunWithKeyAsync(parse, call.Key, body, ct);

    /// <summary>Runs a command that calls the APIs with a key (<c>--key</c> or the environment): resolves --url and the key, maps failures to exit codes.</summary>
    public async Task<int> RunWithKeyAsync(ParseResult parse, Option<string?> keyOption, Func<Uri, string, CancellationToken, Task<int>> body, CancellationToken ct)
    {
        var url = parse.GetValue(Options.Url) ?? environment(GlobalOptions.UrlVariable) ?? GlobalOptions.DefaultUrl;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseAddress) || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            return UsageError($"--url: '{url}' is not an http:// or https:// URL.");
        }
        var key = parse.GetValue(keyOption) ?? environment(Commands.ModelCallOptions.ApiKeyVariable);
        if (string.IsNullOrWhiteSpace(key))
        {
            return UsageError($"No API key: pass --key <key> or set {Commands.ModelCallOptions.ApiKeyVariable}.");
        }
        try
        {
            return await body(baseAddress, key, ct);
        }
        catch (TollgateApiException ex)
        {
            Stderr.WriteLine($"error: {ex.Detail}{(ex.Code is null ? "" : $" ({ex.Code})")} [HTTP {(int)ex.StatusCode}]");
            return ExitCodes.ApiError;
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Net.WebSockets.WebSocketException)
        {
            Stderr.WriteLine($"error: cannot reach Tollgate at {baseAddress}: {ex.Message}");
            return ExitCodes.ApiError;
        }
    }

    /// <summary>A Models API client with the SDK's behaviour, over the test's handler when there is one.</summary>
    public Client.Models.TollgateModelsClient CreateModelsClient(TollgateClientOptions options, Client.Behavior.TollgateClientBehavior behavior) =>
        handler is null ? new(options, behavior) : new(options, behavior, new SharedHandler(handler));

    /// <summary>A Dubbing API client with the SDK's behaviour, over the test's handler when there is one.</summary>
    public Client.Dubbing.TollgateDubbingClient CreateDubbingClient(TollgateClientOptions options, Client.Behavior.TollgateClientBehavior behavior) =>
        handler is null ? new(options, behavior) : new(options, behavior, new SharedHandler(handler));

    /// <summary>Forwards to a handler this run does not own (so disposing a client leaves it alone).</summary>
    private sealed class SharedHandler(HttpMessageHandler inner) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _invoker = new(inner, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            _invoker.SendAsync(request, cancellationToken);
    }

    public int UsageError(string message)
    {
        Stderr.WriteLine($"error: {message}");
        return ExitCodes.UsageError;
    }
}
