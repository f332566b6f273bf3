namespace Tollgate.Services;

/// <summary>
/// The PostgreSQL server the tests run against: <c>TOLLGATE_TEST_POSTGRES</c>, an Npgsql connection string of a role
/// that may create schemas and databases (scripts/test.sh starts a throwaway server and sets it). Without it a test
/// fails with that said, rather than passing without having run.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "TOLLGATE_TEST_POSTGRES";

    /// <exception cref="InvalidOperationException">The variable is not set.</exception>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL tests cannot run: run ./scripts/test.sh (it installs and starts PostgreSQL on "
                + $"127.0.0.1 and sets it), or set it to a server of yours, e.g. {Variable}='Host=127.0.0.1;Port=5432;Database=postgres;Username=postgres;Password=…'.");
}
