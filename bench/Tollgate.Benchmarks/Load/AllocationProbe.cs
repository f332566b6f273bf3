using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// A .NET startup hook (<c>DOTNET_STARTUP_HOOKS=…/Tollgate.Benchmarks.dll</c>) that lets the load generator read a
/// server's own allocation counter: with <c>TOLLGATE_ALLOC_SOCKET</c> set to a path, every connection to that Unix
/// socket is answered with <see cref="GC.GetTotalAllocatedBytes(bool)"/> (precise, the same figure as
/// <c>dotnet.gc.heap.total_allocated</c>) and closed. Read once before and once after the measured window, the
/// difference divided by the requests served is the bytes each request allocated in the server. It runs on its own
/// thread and allocates a few hundred bytes per read, twice a run. With <c>TOLLGATE_ALLOC_PROFILE</c> set to a file,
/// it also listens to the runtime's allocation ticks (one event per ~100 KB allocated, naming the type that crossed
/// the threshold) and at every read writes the types sampled since the previous read to that file, largest first:
/// the allocation profile of the measured window.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("TOLLGATE_ALLOC_SOCKET");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        var profilePath = Environment.GetEnvironmentVariable("TOLLGATE_ALLOC_PROFILE");
        var profile = string.IsNullOrEmpty(profilePath) ? null : new AllocationTicks();
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        new Thread(() =>
        {
            while (true)
            {
                using var connection = listener.Accept();
                var total = GC.GetTotalAllocatedBytes(precise: true);
                profile?.WriteAndReset(profilePath!);
                connection.Send(Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture)));
                connection.Shutdown(SocketShutdown.Both);
            }
        })
        { IsBackground = true, Name = "tollgate-alloc-probe" }.Start();
    }

    /// <summary>The load generator's side: the server's allocated bytes so far, or -1 without a socket.</summary>
    internal static long Read(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return -1;
        }
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        var buffer = new byte[32];
        var length = 0;
        int read;
        while ((read = socket.Receive(buffer.AsSpan(length))) > 0)
        {
            length += read;
        }
        return long.Parse(Encoding.ASCII.GetString(buffer, 0, length), CultureInfo.InvariantCulture);
    }

    /// <summary>The runtime's <c>GCAllocationTick</c> events, summed per type.</summary>
    private sealed class AllocationTicks : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private ConcurrentDictionary<string, long> _bytes = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null)
            {
                return;
            }
            var type = e.Payload![e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
            var amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
            var amount = Convert.ToInt64(e.Payload[amountIndex >= 0 ? amountIndex : e.PayloadNames.IndexOf("AllocationAmount")], CultureInfo.InvariantCulture);
            _bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
        }

        public void WriteAndReset(string path)
        {
            var sample = Interlocked.Exchange(ref _bytes, new ConcurrentDictionary<string, long>());
            var total = Math.Max(1, sample.Values.Sum());
            File.WriteAllLines(path, sample.OrderByDescending(p => p.Value)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Value * 100.0 / total,6:0.0} %  {p.Value,14:N0} B  {p.Key}")));
        }
    }
}
