using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Tollgate.Hosting;

/// <summary>
/// What a new user meets: the server started as a process on an empty store prints the admin token and a demo
/// key once, with curl commands that work; a second start prints no secrets and the token still works.
/// </summary>
public sealed class FirstStartTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-first-start", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task FirstStart_PrintsTokenKeyAndWorkingCurls_SecondStartPrintsNoSecrets()
    {
        string adminToken;
        string address;
        await using (var first = await ServerProcess.StartAsync(_directory))
        {
            var output = await first.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
            adminToken = Regex.Match(output, @"\b(tga_[A-Za-z0-9]+)").Groups[1].Value;
            var demoKey = Regex.Match(output, @"\b(tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6})").Groups[1].Value;
            Assert.NotEmpty(adminToken);
            Assert.NotEmpty(demoKey);
            address = first.Address!;

            var curls = output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("curl ", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, curls.Count); // Models API batch, list-presets, and a Platform API job
            foreach (var curl in curls)
            {
                var (exit, stdout) = await RunAsync("bash", "-c", curl + " -w '\\n%{http_code}'");
                Assert.Equal(0, exit);
                Assert.EndsWith("200", stdout.TrimEnd());
            }

            using var admin = new HttpClient { BaseAddress = new Uri(address + "/") };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
            var orgs = await admin.GetStringAsync("admin/orgs");
            Assert.Contains("Demo", orgs);
        }

        await using var second = await ServerProcess.StartAsync(_directory);
        using (var admin = new HttpClient { BaseAddress = new Uri(second.Address! + "/") })
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
            Assert.Contains("Demo", await admin.GetStringAsync("admin/orgs"));
        }
        Assert.DoesNotContain("tga_", second.Output);
        Assert.DoesNotContain("tgk_", second.Output);
    }

    [Fact]
    public async Task AFirstStartWhosePortIsTaken_ConsumesNothing_AndTheNextGoodStartShowsTheCredentials()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (exit, failed) = await ServerProcess.RunToExitAsync(_directory, urls: $"http://127.0.0.1:{port}");
        Assert.Equal(1, exit);
        Assert.Contains("address already in use", failed);
        Assert.DoesNotContain("tga_", failed);
        Assert.DoesNotContain("tgk_", failed);
        Assert.DoesNotContain("   at ", failed);
        // Where the data is, said before the failure, so the operator knows which store was (not) touched.
        Assert.Contains($"Data directory: {_directory}", failed);
        taken.Stop();

        await using var good = await ServerProcess.StartAsync(_directory);
        var output = await good.WaitForOutputAsync("====\n", TimeSpan.FromSeconds(60), occurrences: 2);
        var adminToken = Regex.Match(output, @"\b(tga_[A-Za-z0-9]+)").Groups[1].Value;
        var demoKey = Regex.Match(output, @"\b(tgk_[A-Za-z0-9]{30}_[A-Za-z0-9]{6})").Groups[1].Value;
        Assert.NotEmpty(adminToken);
        Assert.NotEmpty(demoKey);
        Assert.Contains($"Store: SQLite file {Path.Combine(_directory, "tollgate.db")}", output);
        // The banner comes after the server is listening.
        Assert.True(output.IndexOf("Now listening on:", StringComparison.Ordinal) < output.IndexOf("Tollgate first start", StringComparison.Ordinal), output);

        using var admin = new HttpClient { BaseAddress = new Uri(good.Address! + "/") };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        Assert.Contains("Demo", await admin.GetStringAsync("admin/orgs"));
        using var models = new HttpClient { BaseAddress = new Uri(good.Address! + "/") };
        models.DefaultRequestHeaders.Add("X-API-Key", demoKey);
        using var presets = await models.GetAsync("api/velma-2-batch/list-presets");
        Assert.Equal(System.Net.HttpStatusCode.OK, presets.StatusCode);
    }

    private static async Task<(int Exit, string Stdout)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, stdout);
    }
}

/// <summary>The server binary started the way a user starts it, on 127.0.0.1 with a port the OS picks.</summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private ServerProcess(Process process) => _process = process;

    public string? Address { get; private set; }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="urls">The <c>--urls</c> argument; null starts the server without one (then ASPNETCORE_URLS or the default decides).</param>
    public static Task<ServerProcess> StartAsync(string dataDirectory, IDictionary<string, string>? environment = null, string? urls = "http://127.0.0.1:0") =>
        StartCoreAsync(environment, urls, start =>
        {
            start.Environment["Tollgate__DataDirectory"] = dataDirectory;
            start.Environment["ConnectionStrings__Tollgate"] = $"Data Source={Path.Combine(dataDirectory, "tollgate.db")}";
        });

    /// <summary>The server as a user starts it: from <paramref name="workingDirectory"/>, with no data setting at all (the defaults decide).</summary>
    public static Task<ServerProcess> StartWithDefaultDataAsync(string workingDirectory) =>
        StartCoreAsync(null, "http://127.0.0.1:0", start =>
        {
            start.WorkingDirectory = workingDirectory;
            start.Environment.Remove("Tollgate__DataDirectory");
            start.Environment.Remove("ConnectionStrings__Tollgate");
            start.Environment.Remove("Tollgate__SpoolDirectory");
        });

    /// <summary>
    /// Runs the server on <paramref name="dataDirectory"/> until it exits by itself (a start that fails), within
    /// <paramref name="timeout"/>: its exit code and everything it wrote (standard output and error).
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, IDictionary<string, string>? environment = null,
        string? urls = "http://127.0.0.1:0", IEnumerable<string>? arguments = null, TimeSpan? timeout = null)
    {
        var start = Prepare(environment, urls, s =>
        {
            s.Environment["Tollgate__DataDirectory"] = dataDirectory;
            s.Environment["ConnectionStrings__Tollgate"] = $"Data Source={Path.Combine(dataDirectory, "tollgate.db")}";
        });
        foreach (var argument in arguments ?? [])
        {
            start.ArgumentList.Add(argument);
        }
        await using var server = new ServerProcess(Process.Start(start)!);
        server.BeginReading();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await server._process.WaitForExitAsync(cts.Token);
        return (server._process.ExitCode, server.Output);
    }

    private static ProcessStartInfo Prepare(IDictionary<string, string>? environment, string? urls, Action<ProcessStartInfo> data)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Tollgate.Server.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        if (urls is not null)
        {
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add(urls);
        }
        data(start);
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        return start;
    }

    private void BeginReading()
    {
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private static async Task<ServerProcess> StartCoreAsync(IDictionary<string, string>? environment, string? urls, Action<ProcessStartInfo> data)
    {
        var server = new ServerProcess(Process.Start(Prepare(environment, urls, data))!);
        server.BeginReading();
        var listening = await server.WaitForOutputAsync("Now listening on: ", TimeSpan.FromSeconds(60));
        server.Address = Regex.Match(listening, @"Now listening on: (http://127\.0\.0\.1:\d+)").Groups[1].Value;
        return server;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.Append(line).Append('\n');
        }
    }

    public async Task<string> WaitForOutputAsync(string text, TimeSpan timeout, int occurrences = 1)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var output = Output;
            if (Regex.Matches(output, Regex.Escape(text)).Count >= occurrences)
            {
                return output;
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException("The server exited: " + output);
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"No '{text}' within {timeout}: {Output}");
    }

    /// <summary>Ends the process the hard way (SIGKILL), as a crash would.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>The server's process id (a job engine's claim holder names it).</summary>
    public int Pid => _process.Id;

    /// <summary>Completes once the process has exited (after <see cref="Kill"/>, say), its output drained.</summary>
    public Task WaitForExitAsync() => _process.WaitForExitAsync();
    /// <summary>Asks the process to stop (SIGTERM), as a service manager or <c>docker stop</c> does.</summary>
    public void Terminate()
    {
        if (kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the process to exit; its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
