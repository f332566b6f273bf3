using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Server.Hosting;

namespace Tollgate.Infrastructure;

/// <summary>
/// The real Tollgate server on a real Kestrel, bound to 127.0.0.1 on a free port, with its own data directory (SQLite
/// file, dubbing files) in a temp folder. Restart it (same data folder) with <see cref="RestartAsync"/>.
/// </summary>
public sealed class TollgateServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private WebApplication? _app;

    private TollgateServer(string dataDirectory, Dictionary<string, string?> settings, Action<IServiceCollection>? services)
    {
        DataDirectory = dataDirectory;
        _settings = settings;
        _services = services;
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every log line the server wrote, at every level (for "keys never reach a log").</summary>
    public ConcurrentQueue<string> Logs { get; } = new();

    public IServiceProvider Services => _app!.Services;

    public static async Task<TollgateServer> StartAsync(
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string? dataDirectory = null)
    {
        var directory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "tollgate-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var all = new Dictionary<string, string?>
        {
            ["Tollgate:DataDirectory"] = directory,
            ["ConnectionStrings:Tollgate"] = $"Data Source={Path.Combine(directory, "tollgate.db")}",
            ["Tollgate:Admin:Token"] = AdminToken,
            ["Tollgate:Bootstrap:CreateDemo"] = "false",
            ["Tollgate:SpoolDirectory"] = Path.Combine(directory, "spool"),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            all[k] = v;
        }
        var server = new TollgateServer(directory, all, services);
        await server.StartCoreAsync();
        return server;
    }

    /// <summary>Stops this server and starts a new one on the same data folder (and port-free: a new port).</summary>
    public async Task<TollgateServer> RestartAsync(IDictionary<string, string?>? overrides = null)
    {
        await StopAsync();
        var settings = new Dictionary<string, string?>(_settings);
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }
        var next = new TollgateServer(DataDirectory, settings, _services);
        await next.StartCoreAsync();
        return next;
    }

    private async Task StartCoreAsync()
    {
        _app = TollgateApplication.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            builder.Logging.AddProvider(new CollectingLoggerProvider(Logs));
            _services?.Invoke(builder.Services);
        }, configuration => configuration.AddInMemoryCollection(_settings));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/");
    }

    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }
        return client;
    }

    public HttpClient CreateAdminClient(string? token = AdminToken)
    {
        var client = CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    public Uri WebSocketUri(string pathAndQuery) =>
        new($"ws://{BaseAddress.Host}:{BaseAddress.Port}{pathAndQuery}");

    /// <summary>Creates an organization, a user and a key through the Admin API; returns (orgId, userId, keyId, secret).</summary>
    public async Task<TestKey> CreateKeyAsync(IDictionary<string, (int Concurrency, double Hours)> models, string? orgId = null, string? userId = null)
    {
        using var admin = CreateAdminClient();
        if (orgId is null)
        {
            var org = await PostJsonAsync(admin, "admin/orgs", new { name = "org " + Guid.NewGuid().ToString("N")[..6] });
            orgId = org["id"]!.GetValue<string>();
        }
        if (userId is null)
        {
            var user = await PostJsonAsync(admin, $"admin/orgs/{orgId}/users", new { name = "user" });
            userId = user["id"]!.GetValue<string>();
        }
        var body = new JsonObject
        {
            ["models"] = new JsonObject(models.Select(m => KeyValuePair.Create<string, JsonNode?>(m.Key,
                new JsonObject { ["concurrency"] = m.Value.Concurrency, ["monthly_audio_hours"] = m.Value.Hours }))),
        };
        var key = await PostJsonAsync(admin, $"admin/orgs/{orgId}/users/{userId}/keys", body);
        return new TestKey(orgId, userId, key["id"]!.GetValue<string>(), key["key"]!.GetValue<string>());
    }

    public Task<TestKey> CreateKeyAsync(string model, int concurrency = 5, double hours = 10) =>
        CreateKeyAsync(new Dictionary<string, (int, double)> { [model] = (concurrency, hours) });

    private static async Task<JsonObject> PostJsonAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} → {(int)response.StatusCode}: {text}");
        }
        return JsonNode.Parse(text)!.AsObject();
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(categoryName, sink);

        public void Dispose()
        {
        }

        private sealed class Collector(string category, ConcurrentQueue<string> sink) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                sink.Enqueue($"[scope] {category}: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception} {JsonSerializer.Serialize(state?.ToString())}");
            }
        }
    }
}

public sealed record TestKey(string OrgId, string UserId, string KeyId, string Secret);
