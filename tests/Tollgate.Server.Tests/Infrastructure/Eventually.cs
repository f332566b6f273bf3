using System.Diagnostics;

namespace Tollgate.Infrastructure;

/// <summary>Waits (real time, bounded) for what a server process does in the background: a job claimed, a dub done.</summary>
public static class Eventually
{
    /// <summary>Looks every 2 ms until <paramref name="look"/> finds something; fails the test after <paramref name="patience"/> (default 90 s).</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> look, TimeSpan? patience = null) where T : class
    {
        var limit = patience ?? TimeSpan.FromSeconds(90);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (await look() is { } found)
            {
                return found;
            }
            Assert.True(waited.Elapsed < limit, "gave up waiting");
            await Task.Delay(2);
        }
    }
}
