using BenchmarkDotNet.Attributes;
using Tollgate.Identity;
using Tollgate.Storage.Sqlite;
using Tollgate.Storage.Relational.Identity;

namespace Tollgate.Benchmarks.Identity;

/// <summary>
/// Step 1 of admission: authenticating a presented key. Baseline: the SHA-256 of the key alone, which every
/// well-formed key costs; the rest is the checksum check and the cache look-up.
/// </summary>
[MemoryDiagnoser]
public class KeyAuthenticationBenchmarks
{
    private string _directory = null!;
    private KeyAuthenticator _authenticator = null!;
    private string _valid = null!;
    private string _unknown = null!;
    private string _malformed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "tollgate-bench-" + Guid.NewGuid().ToString("N"));
        var database = new SqliteDatabase($"Data Source={Path.Combine(_directory, "b.db")}");
        new SqliteMigrator().Migrate(database);
        var store = new SqlIdentityStore(database, TimeProvider.System);
        var org = store.CreateOrganizationAsync("bench").GetAwaiter().GetResult();
        var user = store.CreateUserAsync(org.Id, "bench").GetAwaiter().GetResult();
        var issued = new KeyIssuer(store, TimeProvider.System)
            .IssueAsync(user, null, new Dictionary<string, ModelLimits> { ["velma-2-stt-batch"] = new(5, 10) }).GetAwaiter().GetResult();
        _authenticator = new KeyAuthenticator(store, TimeProvider.System);
        _valid = issued.Secret;
        _unknown = ApiKeys.Generate();
        _malformed = _valid[..^1] + (_valid[^1] == 'a' ? 'b' : 'a');
        // Warm the caches, as a running server has them.
        _authenticator.AuthenticateAsync(_valid).AsTask().GetAwaiter().GetResult();
        _authenticator.AuthenticateAsync(_unknown).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public KeyHash Sha256Only() => ApiKeys.Hash(_valid);

    [Benchmark]
    public int ValidKey() => Await(_authenticator.AuthenticateAsync(_valid));

    [Benchmark]
    public int UnknownKey() => Await(_authenticator.AuthenticateAsync(_unknown));

    [Benchmark]
    public int MalformedKey() => Await(_authenticator.AuthenticateAsync(_malformed));

    private static int Await(ValueTask<AuthResult> pending) =>
        (int)(pending.IsCompletedSuccessfully ? pending.Result.Status : pending.AsTask().GetAwaiter().GetResult().Status);
}
