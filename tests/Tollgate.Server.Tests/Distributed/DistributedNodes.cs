using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Tollgate.Hosting;
using Tollgate.Infrastructure;

namespace Tollgate.Distributed;

/// <summary>
/// The real deployment: N server processes (each on 127.0.0.1 on its own port, each with a data folder of its own, so
/// its own spool) sharing ONE PostgreSQL database (<see cref="Database"/>, a fresh one on TOLLGATE_TEST_POSTGRES,
/// dropped afterwards) and ONE Redis. A seed server creates the organization, user and key in that database before the
/// nodes start, so every node knows the same key.
/// </summary>
internal sealed class DistributedNodes : IAsyncDisposable
{
    public const string AdminToken = TollgateServer.AdminToken;

    private readonly string _root;
    private readonly Dictionary<string, string> _environment;

    private readonly bool _sharedData;

    private DistributedNodes(string root, TempPostgresDatabase database, Dictionary<string, string> environment, TestKey key, bool sharedData)
    {
        _root = root;
        _sharedData = sharedData;
        Database = database;
        _environment = environment;
        Key = key;
    }

    public List<ServerProcess> Nodes { get; } = [];

    public TestKey Key { get; }

    /// <summary>The PostgreSQL database every node stores in (the ledger's rows can be counted there).</summary>
    public TempPostgresDatabase Database { get; }

    /// <summary>The environment every node gets (PostgreSQL, Redis, key prefix, admin token, the test's own settings).</summary>
    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>The Redis the tests run against: <c>TOLLGATE_TEST_REDIS</c>, set by scripts/test.sh; without it the test fails saying so.</summary>
    public static string TestRedis => System.Environment.GetEnvironmentVariable("TOLLGATE_TEST_REDIS") is { Length: > 0 } address
        ? address
        : throw new InvalidOperationException("TOLLGATE_TEST_REDIS is not set: the multi-node tests need a real redis-server. Run ./scripts/test.sh (it starts one), or start one and set TOLLGATE_TEST_REDIS=127.0.0.1:PORT.");

    public static async Task<DistributedNodes> StartAsync(int count, IDictionary<string, (int Concurrency, double Hours)> models,
        IDictionary<string, string>? settings = null, string? redis = null, bool sharedData = false)
    {
        var root = Path.Combine(Path.GetTempPath(), "tollgate-tests", "nodes-" + Guid.NewGuid().ToString("N"));
        var database = new TempPostgresDatabase();
        TestKey key;
        try
        {
            await using var seed = await TollgateServer.StartAsync(
                new Dictionary<string, string?> { ["ConnectionStrings:Tollgate"] = database.ConnectionString }, dataDirectory: Path.Combine(root, "seed"));
            key = await seed.CreateKeyAsync(models);
        }
        catch
        {
            database.Dispose();
            throw;
        }
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Tollgate"] = database.ConnectionString,
            ["ConnectionStrings__Redis"] = redis ?? TestRedis,
            ["Tollgate__Redis__KeyPrefix"] = "tollgate-test-" + Guid.NewGuid().ToString("N")[..8],
            ["Tollgate__Admin__Token"] = AdminToken,
            ["Tollgate__Bootstrap__CreateDemo"] = "false",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
        {
            environment[k] = v;
        }
        var nodes = new DistributedNodes(root, database, environment, key, sharedData);
        try
        {
            for (var i = 0; i < count; i++)
            {
                Directory.CreateDirectory(nodes.Folder(i));
            }
            nodes.Nodes.AddRange(await Task.WhenAll(Enumerable.Range(0, count).Select(i => nodes.StartNodeAsync(i))));
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
        return nodes;
    }

    private string Folder(int index) => Path.Combine(_root, "node" + index);

    /// <summary>
    /// Starts node <paramref name="index"/> (again, after a kill: same folder, a new port). With shared data (the
    /// dubbing files on one volume, as the README's deployment has it) every node's data directory is one folder, and
    /// each keeps its own spool.
    /// </summary>
    public Task<ServerProcess> StartNodeAsync(int index)
    {
        if (!_sharedData)
        {
            return ServerProcess.StartAsync(Folder(index), _environment);
        }
        var environment = new Dictionary<string, string>(_environment)
        {
            ["Tollgate__DataDirectory"] = Path.Combine(_root, "shared"),
            ["Tollgate__SpoolDirectory"] = Path.Combine(Folder(index), "spool"),
        };
        return ServerProcess.StartAsync(Folder(index), environment);
    }

    /// <summary>The node whose process holds a job engine claim (<c>machine/pid/…</c>), or -1.</summary>
    public int NodeOfHolder(string holder)
    {
        var pid = int.Parse(holder.Split('/')[1], System.Globalization.CultureInfo.InvariantCulture);
        return Nodes.FindIndex(n => n.Pid == pid);
    }

    public HttpClient Client(int node, string? apiKey = null)
    {
        // A refused upload is answered before its body is sent (100-continue): the client waits for that answer
        // however long a cold node takes, instead of starting the body after the default second.
        var handler = new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) };
        var client = new HttpClient(handler) { BaseAddress = new Uri(Nodes[node].Address + "/"), Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }
        return client;
    }

    public HttpClient AdminClient(int node)
    {
        var client = Client(node);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    public Uri WebSocketUri(int node, string pathAndQuery) => new(Nodes[node].Address!.Replace("http://", "ws://") + pathAndQuery);

    /// <summary>The pool's leases in flight, as <paramref name="node"/> reports them (Redis's count: the same on every node).</summary>
    public async Task<int> InFlightAsync(int node, string model) => (await UsageAsync(node, model))["in_flight"]!.GetValue<int>();

    /// <summary>The pool's line of this month's usage report (<c>used_ms</c>, <c>reserved_ms</c>, <c>in_flight</c>, …), as <paramref name="node"/> answers it.</summary>
    public async Task<JsonObject> UsageAsync(int node, string model)
    {
        using var admin = AdminClient(node);
        var report = await admin.GetFromJsonAsync<JsonObject>($"admin/orgs/{Key.OrgId}/usage");
        return report!["models"]!.AsArray().Select(m => m!.AsObject()).Single(m => m["model"]!.GetValue<string>() == model);
    }

    /// <summary>Polls (with a deadline) until the pool's leases in flight reach <paramref name="expected"/>; how long that took.</summary>
    public async Task<TimeSpan> WaitForInFlightAsync(int node, string model, int expected, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        int seen;
        while ((seen = await InFlightAsync(node, model)) != expected)
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"in_flight of {model} stayed {seen}, expected {expected}, for {deadline}");
            }
            await Task.Delay(25);
        }
        return clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
        Database.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A redis-server of one test's own (a test that restarts Redis must not restart everyone's): started from
/// <c>TOLLGATE_TEST_REDIS_SERVER</c> on 127.0.0.1 on a free port, without persistence, killed when disposed.
/// </summary>
internal sealed class OwnRedis : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-tests", "redis-" + Guid.NewGuid().ToString("N"));
    private Process? _process;

    private OwnRedis(int port) => Port = port;

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<OwnRedis> StartAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var redis = new OwnRedis(port);
        Directory.CreateDirectory(redis._directory);
        await redis.StartProcessAsync();
        return redis;
    }

    private static string Binary => System.Environment.GetEnvironmentVariable("TOLLGATE_TEST_REDIS_SERVER") is { Length: > 0 } path
        ? path
        : throw new InvalidOperationException("TOLLGATE_TEST_REDIS_SERVER is not set: run ./scripts/test.sh, which installs redis-server and names it.");

    /// <summary>Kills the server (SIGKILL: its data is gone, there is no persistence) and starts a new one on the same port.</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        Kill();
        await Task.Delay(down);
        await StartProcessAsync();
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process?.Dispose();
        _process = null;
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--dir", _directory })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
