using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Tollgate.Infrastructure;

/// <summary>
/// The real Tollgate server as its own process (<c>dotnet Tollgate.Server.dll --urls http://127.0.0.1:&lt;port&gt;</c>),
/// configured only through environment variables, with its SQLite file in a fresh temp folder: exactly how a user
/// starts it before pointing <c>tollgate</c> at it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The server requires at least 16 characters.</summary>
    public const string AdminToken = "test-token-0123456789";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private ServerProcess(Process process, ConcurrentQueue<string> output, Uri baseAddress, string dataDirectory)
    {
        _process = process;
        _output = output;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
    }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    /// <summary>What the server printed so far (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <param name="environment">More settings, as environment variables (<c>Tollgate__RateLimits__Headers=Ietf</c>).</param>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tollgate-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var start = new ProcessStartInfo(DotnetHost())
        {
            ArgumentList = { ServerAssembly(), "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Tollgate__Admin__Token"] = AdminToken;
        start.Environment["Tollgate__DataDirectory"] = directory;
        start.Environment["ConnectionStrings__Tollgate"] = $"Data Source={Path.Combine(directory, "t.db")}";
        start.Environment["Tollgate__Bootstrap__CreateDemo"] = "false";
        start.Environment["Tollgate__SpoolDirectory"] = Path.Combine(directory, "spool");
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new ServerProcess(process, output, new Uri($"http://127.0.0.1:{port}/"), directory);
        try
        {
            await server.WaitUntilReadyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>GET /admin/orgs</c> until it answers 200; fails early if the process exits.</summary>
    private async Task WaitUntilReadyAsync()
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var deadline = Stopwatch.StartNew();
        string last = "no answer";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the redirected output into _output
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode} before it was ready.\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync("admin/orgs");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"The server was not ready within {StartTimeout.TotalSeconds} s (last: {last}).\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    /// <summary>
    /// The server's own build output (with its deps.json), found beside this test's output; else the copy the project
    /// reference put in this test's output.
    /// </summary>
    private static string ServerAssembly()
    {
        // tests/Tollgate.Cli.Tests/bin/<Configuration>/<tfm>/ → src/Tollgate.Server/bin/<Configuration>/<tfm>/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = testOutput.Name;
        var configuration = testOutput.Parent?.Name ?? "";
        for (var dir = testOutput; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Tollgate.Server", "bin", configuration, tfm, "Tollgate.Server.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        var copy = Path.Combine(testOutput.FullName, "Tollgate.Server.dll");
        if (File.Exists(copy) && File.Exists(Path.Combine(testOutput.FullName, "Tollgate.Server.runtimeconfig.json")))
        {
            return copy;
        }
        throw new FileNotFoundException($"Tollgate.Server.dll ({configuration}/{tfm}) not found above {testOutput.FullName}; build src/Tollgate.Server first.");
    }

    /// <summary>The <c>dotnet</c> that runs these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One server process shared by every end-to-end test class of the collection.</summary>
public sealed class ServerProcessFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ServerProcessCollection : ICollectionFixture<ServerProcessFixture>
{
    public const string Name = "Tollgate server process";
}
